/**
 * A client sends half a chunk body (raw or multipart)
 * to one example-app process and its socket is destroyed. Nothing is
 * recorded (the reservation is released at once, not by lease expiry), and
 * the same range sent right after the cut to a second process sharing the
 * database and data folder succeeds. The assembled file is exact.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { type AppProcess } from '../helpers/app-process';
import type { DbProbe } from './support/db-probe';
import { ProcessFleet } from './support/process-fleet';
import { openChunk } from './support/open-chunk';
import { eventually } from './support/files';

const CHUNK = 256 * 1024;
// SQLite is single-instance: two processes are only started on a server database.
const kind = databaseKinds().find((k) => k !== 'sqlite') ?? 'sqlite';

const where = kind === 'sqlite' ? 'one example-app process on sqlite (single-instance)' : `two example-app processes on ${kind}`;

describe(`connection cut mid-chunk, ${where}`, () => {
  const fleet = new ProcessFleet(kind, 'frago-cut-');
  let probe: DbProbe;
  let a: AppProcess;
  let b: AppProcess;

  before(async () => {
    // A long lease: a released range must come from the cut being noticed, not from the lease running out.
    const started = await fleet.start(kind === 'sqlite' ? 1 : 2, { env: { FRAGO_CHUNK_LEASE_MS: '60000' } });
    [a, b = a] = started.instances;
    probe = started.probe;
  });

  for (const multipart of [false, true]) {
    const shape = multipart ? 'multipart' : 'raw';
    it(`${shape}: half a body then a dead socket records nothing; the retry right after the cut succeeds on the other instance`, async () => {
      const data = testBytes(3 * CHUNK, multipart ? 21 : 22);
      const name = `cut-${shape}.bin`;
      const id = await startOk(a.uploadUrl, name, data.length);
      const piece = (n: number): Buffer => data.subarray(n * CHUNK, (n + 1) * CHUNK);

      // Chunk 0: cut, then nothing may remain recorded (watched before any retry).
      const first = openChunk(a.uploadUrl, id, piece(0), 0, data.length, { multipart });
      await first.send(CHUNK / 2);
      assert.ok(await eventually(async () => (await probe.chunks(id)).length === 1, 10_000), 'the server reserved the range while the body arrived');
      first.cut();
      assert.ok(await eventually(async () => (await probe.chunks(id)).length === 0, 5_000), 'the reservation is released once the socket dies');
      assert.deepEqual((await getStatus(b.uploadUrl, id)).body.chunks, []);
      const retry0 = await putChunk(b.uploadUrl, id, piece(0), 0, data.length, { multipart });
      assert.equal(retry0.status, 200, JSON.stringify(retry0.body));
      assert.equal(retry0.body.duplicate, undefined);

      // Chunk 1: the retry goes out the moment the socket is cut, to the other process.
      const second = openChunk(a.uploadUrl, id, piece(1), CHUNK, data.length, { multipart });
      await second.send(CHUNK / 2);
      assert.ok(await eventually(async () => (await probe.chunks(id)).some((row) => row.start === CHUNK), 10_000));
      second.cut();
      const retry1 = await putChunk(b.uploadUrl, id, piece(1), CHUNK, data.length, { multipart });
      assert.equal(retry1.status, 200, JSON.stringify(retry1.body));
      assert.equal(retry1.body.duplicate, undefined, 'the cut chunk was never recorded, so the retry is not a duplicate');
      assert.ok('error' in (await second.outcome), 'the cut request got no answer');

      const last = await putChunk(a.uploadUrl, id, piece(2), 2 * CHUNK, data.length, { multipart });
      assert.equal(last.status, 200);
      const rows = await probe.chunks(id);
      assert.deepEqual(
        rows.map((row) => [row.start, row.size, row.committed]),
        [0, 1, 2].map((n) => [n * CHUNK, CHUNK, true]),
      );
      const done = await finalize(b.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(fleet.dataDir, 'assembled_uploads', name)), data);
    });
  }
});
