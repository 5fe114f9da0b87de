/**
 * A chunk body trickled byte by byte is cut off: slower than
 * `minChunkBodyRate` over a whole `chunkBodyRateWindow`, it answers 408 in
 * frago's body with `Connection: close`, records nothing, and frees its range
 * at once (the retry is stored, not made to wait).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { multipartBytes, pacedBody, type BodyPace } from '../helpers/raw-http';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

const CHUNK = 8192;
const RATE = 1000;
const WINDOW_MS = 500;
const BOUNDARY = 'frago-trickle';

/** A chunk PUT of the first of two {@link CHUNK}-byte chunks, its body sent at `pace`. */
function pacedPut(url: string, contentType: string, body: Buffer, pace: BodyPace, connection = '') {
  const target = new URL(url);
  const head =
    `PUT ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n` +
    `Content-Range: bytes 0-${CHUNK - 1}/${CHUNK * 2}\r\n${connection}\r\n`;
  return pacedBody(url, head, body, pace);
}

/**
 * Sends the head and the first `lead` body bytes at once, then one byte every
 * 20 ms (far below {@link RATE}), never the last one, until the server
 * answers or closes.
 */
function trickle(url: string, contentType: string, body: Buffer, lead: number) {
  return pacedPut(url, contentType, body, { lead, step: 1, everyMs: 20, upTo: body.length - 1 });
}

for (const kind of databaseKinds()) {
  describe(`a trickled chunk body on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const reservations = (id: string): Promise<number> => t.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id });

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { minChunkBodyRate: RATE, chunkBodyRateWindow: WINDOW_MS } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    for (const multipart of [false, true]) {
      const what = multipart ? 'multipart' : 'raw';
      it(`a ${what} body trickled at a few bytes a second answers 408 BODY_TOO_SLOW with Connection: close, records nothing and frees its range at once`, async () => {
        const data = testBytes(CHUNK, multipart ? 82 : 81);
        const id = await startOk(t.uploadUrl, `trickle-${what}.bin`, CHUNK * 2);
        const body = multipart ? multipartBytes(BOUNDARY, [{ name: 'file', filename: 'chunk', data }]) : data;
        const contentType = multipart ? `multipart/form-data; boundary=${BOUNDARY}` : 'application/octet-stream';
        const { answer, sent } = await trickle(`${t.uploadUrl}/${id}/`, contentType, body, 600);
        assert.ok(sent < body.length, 'the server answered before the body was complete');
        assert.equal(answer?.kind, 'answer', 'an answer came back');
        if (answer?.kind !== 'answer') return;
        assert.equal(answer.status, 408, answer.body);
        assert.equal(answer.headers.connection, 'close');
        assert.equal(answer.json?.status, false);
        assert.equal(answer.json?.code, 'BODY_TOO_SLOW');
        assert.equal(typeof answer.json?.error, 'string');
        // Released before the answer went out: nothing holds the range, and the retry is stored at once.
        assert.equal(await reservations(id), 0, 'no reservation is left');
        const status = await getStatus(t.uploadUrl, id);
        assert.deepEqual(status.body.chunks, []);
        assert.equal(status.body.received_bytes, 0);
        const retry = await putChunk(t.uploadUrl, id, data, 0, CHUNK * 2, { multipart });
        assert.equal(retry.status, 200, JSON.stringify(retry.body));
        assert.equal(retry.body.duplicate, undefined);
      });
    }

    it('a body that arrives at a steady rate above the minimum is stored, however many windows it spans', async () => {
      const data = testBytes(CHUNK, 83);
      const id = await startOk(t.uploadUrl, 'steady.bin', CHUNK * 2);
      // 512 bytes every 50 ms: about 10 KB/s, ten times the minimum; 4 KiB take about one window.
      const pace = { lead: 0, step: 512, everyMs: 50, upTo: CHUNK };
      const { answer } = await pacedPut(`${t.uploadUrl}/${id}/`, 'application/octet-stream', data, pace, 'Connection: close\r\n');
      assert.equal(answer?.kind === 'answer' ? answer.status : answer, 200);
      assert.equal((await getStatus(t.uploadUrl, id)).body.received_bytes, CHUNK);
    });
  });
}
