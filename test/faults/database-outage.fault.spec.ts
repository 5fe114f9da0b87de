import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSourceOptions } from 'typeorm';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { DataSource } from 'typeorm';
import { once } from 'node:events';
import { connect } from 'node:net';
import { parseAnswer } from '../helpers/raw-http';
import { CuttableProxy } from '../helpers/cuttable-proxy';
import { putChunk, startOk, startUpload, getStatus, testBytes, type JsonResponse } from '../helpers/upload-client';

for (const kind of databaseKinds().filter((k) => k !== 'sqlite')) {
  describe(`a ${kind} outage (the database connection cut at a TCP proxy)`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let proxy: CuttableProxy;

    before(async () => {
      db = await createTestDatabase(kind);
      const url = new URL((db.options as { url: string }).url);
      proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
      await proxy.open();
      url.port = String(proxy.port);
      // A lease far longer than the test: a reservation left behind by a failed commit would make the retry wait for it.
      t = await createTestApp({
        db: { ...db, options: { ...db.options, url: url.toString() } as DataSourceOptions },
        options: { chunkLeaseTimeout: 600_000, twinPollInterval: 100 },
      });
    });
    after(async () => {
      await proxy?.cut();
      await t?.close().catch(() => undefined);
      await db?.drop();
    });

    it('every request answers 503 DATABASE_UNAVAILABLE with Retry-After while the database is unreachable (never 500), and works again once it is back', async () => {
      const id = await startOk(t.uploadUrl, 'before.bin', 10);
      await proxy.cut();
      for (const answer of [await getStatus(t.uploadUrl, id), await startUpload(t.uploadUrl, { filename: 'during.bin', total_size: 10 })]) {
        assert.equal(answer.status, 503, JSON.stringify(answer.body));
        assert.equal(answer.body.code, 'DATABASE_UNAVAILABLE', JSON.stringify(answer.body));
        assert.equal(answer.body.status, false);
        assert.ok(Number(answer.headers.get('retry-after')) > 0, 'Retry-After says when to retry');
      }
      await proxy.open();
      let status = await getStatus(t.uploadUrl, id);
      for (let attempt = 0; status.status === 503 && attempt < 50; attempt++) status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200, JSON.stringify(status.body));
    });
    it('a chunk whose commit failed in the outage does not keep its range: its retry once the database is back is stored at once (200, not duplicate)', async () => {
      const CHUNK = 64 * 1024;
      const data = testBytes(CHUNK, 91);
      const id = await startOk(t.uploadUrl, 'commit-failed.bin', CHUNK);
      const target = new URL(`${t.uploadUrl}/${id}/`);
      const socket = connect(Number(target.port), '127.0.0.1');
      socket.on('error', () => undefined);
      const received: Buffer[] = [];
      socket.on('data', (bytes: Buffer) => received.push(bytes));
      const closed = once(socket, 'close');
      await once(socket, 'connect');
      socket.write(
        `PUT ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${CHUNK}\r\nContent-Range: bytes 0-${CHUNK - 1}/${CHUNK}\r\nConnection: close\r\n\r\n`,
      );
      socket.write(data.subarray(0, CHUNK / 2));
      const reservations = t.app.get(DataSource).getRepository(ChunkedUploadChunk);
      for (let attempt = 0; (await reservations.countBy({ uploadId: id, committed: false })) === 0; attempt++) {
        assert.ok(attempt < 2000, 'the chunk got its reservation');
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The database goes away mid-chunk: the bytes are stored, the commit (and the release) fail.
      await proxy.cut();
      socket.write(data.subarray(CHUNK / 2));
      await closed;
      const answer = parseAnswer(Buffer.concat(received));
      assert.equal(answer?.kind === 'answer' ? answer.status : answer, 503, JSON.stringify(answer));
      assert.equal(answer?.kind === 'answer' ? answer.json?.code : null, 'DATABASE_UNAVAILABLE');

      await proxy.open();
      let retry: JsonResponse = await putChunk(t.uploadUrl, id, data, 0, CHUNK);
      for (let attempt = 0; retry.status === 503 && attempt < 50; attempt++) retry = await putChunk(t.uploadUrl, id, data, 0, CHUNK);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(retry.body.duplicate, undefined, 'the failed commit counted nothing: the retry stores the chunk');
      const status = await getStatus(t.uploadUrl, id);
      assert.deepEqual(status.body.chunks, [{ start: 0, end: CHUNK - 1, size: CHUNK }]);
    });
  });
}
