/** PUT /upload/:id/: accepted raw and multipart chunks, and Content-Range and body size refusals (digests, duplicates and limits are in sibling specs). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../helpers/test-databases';
import { finalize, digest, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';
import { assertChunks, MAX_CHUNK, putStreamed } from './support/put-chunk';
import { useTestApp } from './support/use-test-app';

for (const kind of databaseKinds()) {
  describe(`upload a chunk (PUT /upload/:id/) on ${kind}`, () => {
    const app = useTestApp(kind, { maxChunkSize: MAX_CHUNK }, { failOnUncaught: true });

    it('answers 200 with status, message, start, end and size to a raw octet-stream chunk', async () => {
      const data = testBytes(1000, 1);
      const id = await startOk(app.t.uploadUrl, 'raw.bin', data.length);
      const response = await putChunk(app.t.uploadUrl, id, data.subarray(100, 400), 100, data.length);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, { status: true, message: 'Chunk uploaded', start: 100, end: 399, size: 300 });
      assert.equal(app.events.count(app.events.chunks, id), 1, 'chunk.received once');
      await assertChunks(app.t.uploadUrl, id, [{ start: 100, end: 399, size: 300 }]);
    });

    it('answers 200 to a multipart chunk in field "file", and raw and multipart chunks assemble together', async () => {
      const data = testBytes(5000, 2);
      const id = await startOk(app.t.uploadUrl, 'mixed.bin', data.length);
      const first = await putChunk(app.t.uploadUrl, id, data.subarray(0, 2500), 0, data.length, { multipart: true });
      assert.deepEqual(first.body, { status: true, message: 'Chunk uploaded', start: 0, end: 2499, size: 2500 });
      const second = await putChunk(app.t.uploadUrl, id, data.subarray(2500), 2500, data.length);
      assert.equal(second.status, 200);
      await assertChunks(app.t.uploadUrl, id, [
        { start: 0, end: 2499, size: 2500 },
        { start: 2500, end: 4999, size: 2500 },
      ]);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
    });

    it('answers 200 to a multipart chunk with other fields around the file part', async () => {
      const data = testBytes(700, 3);
      const id = await startOk(app.t.uploadUrl, 'fields.bin', data.length);
      const form = new FormData();
      form.append('note', 'before');
      form.append('file', new Blob([data as Uint8Array<ArrayBuffer>]), 'chunk');
      form.append('after', 'x');
      const response = await request(`${app.t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': `bytes 0-699/700` }, body: form });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.size, 700);
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('answers 400 when Content-Range is missing', async () => {
      const id = await startOk(app.t.uploadUrl, 'norange.bin', 10);
      assertFragoError(await putChunk(app.t.uploadUrl, id, testBytes(10), 0, 10, { contentRange: null }), 400, 'error', 'INVALID_CONTENT_RANGE');
      assertFragoError(
        await putChunk(app.t.uploadUrl, id, testBytes(10), 0, 10, { contentRange: null, multipart: true }),
        400,
        'error',
        'INVALID_CONTENT_RANGE',
      );
      await assertChunks(app.t.uploadUrl, id, []);
    });

    it('answers 400 to a malformed Content-Range, START > END and END ≥ TOTAL', async () => {
      const id = await startOk(app.t.uploadUrl, 'badrange.bin', 5);
      const cases: Array<[string, number]> = [
        ['bytes=0-1/5', 2],
        ['bytes 1-0/5', 2],
        ['items 0-1/5', 2],
        ['bytes 0-1', 2],
        ['bytes 0-1/*', 2],
        ['bytes */5', 2],
        ['bytes -1-0/5', 2],
        ['bytes 0.5-1/5', 2],
        ['bytes a-b/5', 2],
        ['0-1/5', 2],
        ['bytes 0-5/5', 6],
        ['bytes 3-7/5', 5],
        ['bytes 0-99999999999999999/5', 2],
      ];
      for (const [range, length] of cases) {
        const response = await putChunk(app.t.uploadUrl, id, testBytes(length), 0, 5, { contentRange: range });
        assertFragoError(response, 400, 'error', 'INVALID_CONTENT_RANGE');
      }
      await assertChunks(app.t.uploadUrl, id, []);
    });

    it("answers 400 when Content-Range TOTAL differs from the upload's total_size", async () => {
      const id = await startOk(app.t.uploadUrl, 'total.bin', 100);
      assertFragoError(await putChunk(app.t.uploadUrl, id, testBytes(10), 0, 101), 400, 'error', 'INVALID_CONTENT_RANGE');
      assertFragoError(await putChunk(app.t.uploadUrl, id, testBytes(10), 0, 99), 400, 'error', 'INVALID_CONTENT_RANGE');
      await assertChunks(app.t.uploadUrl, id, []);
    });

    it('answers 400 when the raw body is shorter or longer than the range, and records nothing', async () => {
      const data = testBytes(100, 4);
      const id = await startOk(app.t.uploadUrl, 'length.bin', data.length);
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(0, 9), 0, 100, { contentRange: 'bytes 0-9/100' }), 400, 'error');
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(0, 11), 0, 100, { contentRange: 'bytes 0-9/100' }), 400, 'error');
      // Streamed without Content-Length: the size is checked as the bytes arrive.
      const short = await putStreamed(app.t.uploadUrl, id, [data.subarray(0, 5), data.subarray(5, 9)], 'bytes 0-9/100');
      assertFragoError(short, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      const long = await putStreamed(app.t.uploadUrl, id, [data.subarray(0, 6), data.subarray(6, 11)], 'bytes 0-9/100');
      assertFragoError(long, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      assert.deepEqual(app.uncaught, [], 'an oversize body must not raise an uncaught exception (it would crash the server)');
      await assertChunks(app.t.uploadUrl, id, []);
      // Nothing was left reserved: the right bytes for that range are accepted now.
      const right = await putStreamed(app.t.uploadUrl, id, [data.subarray(0, 4), data.subarray(4, 10)], 'bytes 0-9/100');
      assert.equal(right.status, 200, JSON.stringify(right.body));
      await assertChunks(app.t.uploadUrl, id, [{ start: 0, end: 9, size: 10 }]);
    });

    it('answers 400 when the multipart file part is shorter or longer than the range, and records nothing', async () => {
      const data = testBytes(100, 5);
      const id = await startOk(app.t.uploadUrl, 'mp-length.bin', data.length);
      const short = await putChunk(app.t.uploadUrl, id, data.subarray(0, 9), 0, 100, { multipart: true, contentRange: 'bytes 0-9/100' });
      assertFragoError(short, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      const long = await putChunk(app.t.uploadUrl, id, data.subarray(0, 50), 0, 100, { multipart: true, contentRange: 'bytes 0-9/100' });
      assertFragoError(long, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      assert.deepEqual(app.uncaught, [], 'an oversize file part must not raise an uncaught exception (it would crash the server)');
      await assertChunks(app.t.uploadUrl, id, []);
      assert.equal(app.events.count(app.events.chunks, id), 0);
    });

    it('answers 400 when no chunk is sent (multipart without "file", empty raw body, no body)', async () => {
      const id = await startOk(app.t.uploadUrl, 'nochunk.bin', 10);
      const form = new FormData();
      form.append('other', new Blob([testBytes(10) as Uint8Array<ArrayBuffer>]), 'chunk');
      form.append('field', 'value');
      assertFragoError(
        await request(`${app.t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: form }),
        400,
        'error',
        'NO_CHUNK',
      );
      const fieldsOnly = new FormData();
      fieldsOnly.append('file', 'not a file part, a plain field');
      assertFragoError(
        await request(`${app.t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: fieldsOnly }),
        400,
        'error',
      );
      assertFragoError(await putChunk(app.t.uploadUrl, id, new Uint8Array(0), 0, 10, { contentRange: 'bytes 0-9/10' }), 400, 'error');
      assertFragoError(await request(`${app.t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' } }), 400, 'error', 'NO_CHUNK');
      await assertChunks(app.t.uploadUrl, id, []);
    });

    it('raised no uncaught exception while answering any of the requests above', () => {
      assert.deepEqual(app.uncaught, []);
    });
  });
}
