/**
 * The client through a fault-injecting proxy: connections cut mid-body, 503s,
 * requests that never answer, delays. The upload must still complete with
 * exactly the source bytes, having retried at least once per injected fault.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileSource, upload } from 'nestjs-frago-client/node';
import { ClientRig } from './support/client-rig';
import { hexDigest, uniqueName } from './support/files';

describe('upload through a faulty network', { timeout: 120_000 }, () => {
  const rig = new ClientRig();

  it('completes with correct bytes despite dropped connections, 503s, hangs and delays', { timeout: 90_000 }, async () => {
    const proxy = await rig.startProxy({ dropEvery: 4, failEvery: 7, hangEvery: 13, delayEvery: 5, delayMs: 150 });
    const name = uniqueName('faulty');
    const size = 4 * 1024 * 1024 + 77;
    const { path, bytes } = await rig.files.create(name, size);
    const retried: string[] = [];
    const result = await upload(await fileSource(path), {
      url: proxy.apiUrl,
      chunkSize: 128 * 1024 + 1,
      parallel: 4,
      retries: 12,
      retryDelay: { baseMs: 10, maxMs: 100 },
      requestTimeoutMs: 1500,
      onRetry: (error) => retried.push(error.code),
    }).catch((error: unknown) => {
      // A connection cut mid-body must leave the server running and record nothing.
      if (!rig.app.isRunning()) assert.fail(`the example app died during the upload:\n${rig.app.logTail()}`);
      throw error;
    });
    const { stats } = proxy;
    assert.ok(stats.dropped > 0 && stats.failed > 0 && stats.hung > 0 && stats.delayed > 0, JSON.stringify(stats));
    // At least one retry per fault (a twin still being written may add a 409 CHUNK_BUSY retry).
    assert.ok(result.retries >= stats.dropped + stats.failed + stats.hung, `${result.retries} retries for ${JSON.stringify(stats)}`);
    assert.ok(retried.includes('NETWORK_ERROR') && retried.includes('PROXY_FAULT'), retried.join(','));
    assert.equal(result.checksum, hexDigest('md5', bytes));
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
  });
});
