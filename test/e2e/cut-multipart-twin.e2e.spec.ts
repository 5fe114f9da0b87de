/**
 * A multipart chunk whose client vanishes mid-file releases its range: an
 * identical twin that waits for it is answered (stored), instead of waiting
 * behind a reservation that the stuck request kept renewing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { sendRequest, type RawRequest } from '../helpers/raw-http';
import { getStatus, startOk, testBytes } from '../helpers/upload-client';

const TOTAL = 4096;
const BOUNDARY = 'frago-cut-twin';

/** A multipart PUT of `data` as bytes 0..511, optionally cut half-way through its body. */
function multipartPut(id: string, data: Buffer, cut: boolean): RawRequest {
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="c"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  return {
    method: 'PUT',
    path: `/api/upload/${id}/`,
    headers: [
      ['Content-Range', `bytes 0-${data.length - 1}/${TOTAL}`],
      ['Content-Type', `multipart/form-data; boundary=${BOUNDARY}`],
      ['Content-Length', String(body.length)],
    ],
    body: [body],
    cutAfter: cut ? Math.floor(body.length / 2) : undefined,
  };
}

for (const kind of databaseKinds()) {
  describe(`a multipart chunk cut mid-file on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { chunkLeaseTimeout: 5000 } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('releases its range: the twin sent with it is stored (several rounds)', async () => {
      const port = Number(new URL(t.baseUrl).port);
      for (let round = 0; round < 6; round++) {
        const id = await startOk(t.uploadUrl, `cut-twin-${round}.bin`, TOTAL);
        const good = testBytes(512, round + 1);
        const bad = testBytes(512, round + 100);
        const [, , twin] = await Promise.all([
          sendRequest(port, multipartPut(id, bad, true)),
          sendRequest(port, multipartPut(id, bad, true)),
          sendRequest(port, multipartPut(id, good, false)),
        ]);
        assert.ok(twin.answer, `round ${round}: the twin got no answer (${twin.error})`);
        assert.equal(twin.answer.status, 200, twin.answer.body);
        const status = await getStatus(t.uploadUrl, id);
        assert.deepEqual(status.body.chunks, [{ start: 0, end: 511, size: 512 }]);
      }
    });
  });
}
