import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';
import { FragoEventLog } from '../helpers/frago-event-log';

const MAX_CHUNK = 64 * 1024;

function contentDigest(data: Uint8Array, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm === 'sha256' ? 'sha-256' : 'sha-512'}=:${createHash(algorithm).update(data).digest('base64')}:`;
}

function md5Base64(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

/** PUT a raw body streamed in `parts` (chunked transfer, no Content-Length). */
async function putStreamed(url: string, id: string, parts: Uint8Array[], range: string): Promise<JsonResponse> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
  return request(`${url}/${id}/`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-range': range },
    body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
}

for (const kind of databaseKinds()) {
  describe(`upload a chunk (PUT /upload/:id/) on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let events: FragoEventLog;
    const uncaught: unknown[] = [];
    const recordUncaught = (error: unknown): void => {
      uncaught.push(error);
    };

    before(async () => {
      process.on('uncaughtException', recordUncaught);
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { maxChunkSize: MAX_CHUNK }, providers: [FragoEventLog] });
      events = t.app.get(FragoEventLog);
    });
    after(async () => {
      process.off('uncaughtException', recordUncaught);
      await t?.close();
      await db?.drop();
    });

    /** Asserts GET shows exactly these stored chunks. */
    async function assertChunks(id: string, expected: Array<{ start: number; end: number; size: number }>): Promise<void> {
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.deepEqual(status.body.chunks, expected);
    }

    it('answers 200 with status, message, start, end and size to a raw octet-stream chunk', async () => {
      const data = testBytes(1000, 1);
      const id = await startOk(t.uploadUrl, 'raw.bin', data.length);
      const response = await putChunk(t.uploadUrl, id, data.subarray(100, 400), 100, data.length);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, { status: true, message: 'Chunk uploaded', start: 100, end: 399, size: 300 });
      assert.equal(events.count(events.chunks, id), 1, 'chunk.received once');
      await assertChunks(id, [{ start: 100, end: 399, size: 300 }]);
    });

    it('answers 200 to a multipart chunk in field "file", and raw and multipart chunks assemble together', async () => {
      const data = testBytes(5000, 2);
      const id = await startOk(t.uploadUrl, 'mixed.bin', data.length);
      const first = await putChunk(t.uploadUrl, id, data.subarray(0, 2500), 0, data.length, { multipart: true });
      assert.deepEqual(first.body, { status: true, message: 'Chunk uploaded', start: 0, end: 2499, size: 2500 });
      const second = await putChunk(t.uploadUrl, id, data.subarray(2500), 2500, data.length);
      assert.equal(second.status, 200);
      await assertChunks(id, [
        { start: 0, end: 2499, size: 2500 },
        { start: 2500, end: 4999, size: 2500 },
      ]);
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
    });

    it('answers 200 to a multipart chunk with other fields around the file part', async () => {
      const data = testBytes(700, 3);
      const id = await startOk(t.uploadUrl, 'fields.bin', data.length);
      const form = new FormData();
      form.append('note', 'before');
      form.append('file', new Blob([data as Uint8Array<ArrayBuffer>]), 'chunk');
      form.append('after', 'x');
      const response = await request(`${t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': `bytes 0-699/700` }, body: form });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.size, 700);
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('answers 400 when Content-Range is missing', async () => {
      const id = await startOk(t.uploadUrl, 'norange.bin', 10);
      assertFragoError(await putChunk(t.uploadUrl, id, testBytes(10), 0, 10, { contentRange: null }), 400, 'error', 'INVALID_CONTENT_RANGE');
      assertFragoError(await putChunk(t.uploadUrl, id, testBytes(10), 0, 10, { contentRange: null, multipart: true }), 400, 'error', 'INVALID_CONTENT_RANGE');
      await assertChunks(id, []);
    });

    it('answers 400 to a malformed Content-Range, START > END and END ≥ TOTAL', async () => {
      const id = await startOk(t.uploadUrl, 'badrange.bin', 5);
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
        const response = await putChunk(t.uploadUrl, id, testBytes(length), 0, 5, { contentRange: range });
        assertFragoError(response, 400, 'error', 'INVALID_CONTENT_RANGE');
      }
      await assertChunks(id, []);
    });

    it("answers 400 when Content-Range TOTAL differs from the upload's total_size", async () => {
      const id = await startOk(t.uploadUrl, 'total.bin', 100);
      assertFragoError(await putChunk(t.uploadUrl, id, testBytes(10), 0, 101), 400, 'error', 'INVALID_CONTENT_RANGE');
      assertFragoError(await putChunk(t.uploadUrl, id, testBytes(10), 0, 99), 400, 'error', 'INVALID_CONTENT_RANGE');
      await assertChunks(id, []);
    });

    it('answers 400 when the raw body is shorter or longer than the range, and records nothing', async () => {
      const data = testBytes(100, 4);
      const id = await startOk(t.uploadUrl, 'length.bin', data.length);
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, 9), 0, 100, { contentRange: 'bytes 0-9/100' }), 400, 'error');
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, 11), 0, 100, { contentRange: 'bytes 0-9/100' }), 400, 'error');
      // Streamed without Content-Length: the size is checked as the bytes arrive.
      const short = await putStreamed(t.uploadUrl, id, [data.subarray(0, 5), data.subarray(5, 9)], 'bytes 0-9/100');
      assertFragoError(short, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      const long = await putStreamed(t.uploadUrl, id, [data.subarray(0, 6), data.subarray(6, 11)], 'bytes 0-9/100');
      assertFragoError(long, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      assert.deepEqual(uncaught, [], 'an oversize body must not raise an uncaught exception (it would crash the server)');
      await assertChunks(id, []);
      // Nothing was left reserved: the right bytes for that range are accepted now.
      const right = await putStreamed(t.uploadUrl, id, [data.subarray(0, 4), data.subarray(4, 10)], 'bytes 0-9/100');
      assert.equal(right.status, 200, JSON.stringify(right.body));
      await assertChunks(id, [{ start: 0, end: 9, size: 10 }]);
    });

    it('answers 400 when the multipart file part is shorter or longer than the range, and records nothing', async () => {
      const data = testBytes(100, 5);
      const id = await startOk(t.uploadUrl, 'mp-length.bin', data.length);
      const short = await putChunk(t.uploadUrl, id, data.subarray(0, 9), 0, 100, { multipart: true, contentRange: 'bytes 0-9/100' });
      assertFragoError(short, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      const long = await putChunk(t.uploadUrl, id, data.subarray(0, 50), 0, 100, { multipart: true, contentRange: 'bytes 0-9/100' });
      assertFragoError(long, 400, 'error', 'CHUNK_SIZE_MISMATCH');
      assert.deepEqual(uncaught, [], 'an oversize file part must not raise an uncaught exception (it would crash the server)');
      await assertChunks(id, []);
      assert.equal(events.count(events.chunks, id), 0);
    });

    it('answers 400 when no chunk is sent (multipart without "file", empty raw body, no body)', async () => {
      const id = await startOk(t.uploadUrl, 'nochunk.bin', 10);
      const form = new FormData();
      form.append('other', new Blob([testBytes(10) as Uint8Array<ArrayBuffer>]), 'chunk');
      form.append('field', 'value');
      assertFragoError(
        await request(`${t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: form }),
        400,
        'error',
        'NO_CHUNK',
      );
      const fieldsOnly = new FormData();
      fieldsOnly.append('file', 'not a file part, a plain field');
      assertFragoError(await request(`${t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: fieldsOnly }), 400, 'error');
      assertFragoError(await putChunk(t.uploadUrl, id, new Uint8Array(0), 0, 10, { contentRange: 'bytes 0-9/10' }), 400, 'error');
      assertFragoError(await request(`${t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' } }), 400, 'error', 'NO_CHUNK');
      await assertChunks(id, []);
    });

    it('answers 400 to a wrong Content-Digest (sha-256, sha-512) or Content-MD5 and records nothing', async () => {
      const data = testBytes(4000, 6);
      const wrong = testBytes(1000, 99);
      const id = await startOk(t.uploadUrl, 'digest.bin', data.length);
      const chunk = data.subarray(0, 1000);
      const cases: Array<Record<string, string>> = [
        { 'content-digest': contentDigest(wrong, 'sha256') },
        { 'content-digest': contentDigest(wrong, 'sha512') },
        { 'content-md5': md5Base64(wrong) },
        { 'content-md5': digest(wrong, 'md5') },
        { 'content-digest': `${contentDigest(chunk, 'sha256')}, ${contentDigest(wrong, 'sha512')}` },
        { 'content-digest': contentDigest(chunk, 'sha256'), 'content-md5': md5Base64(wrong) },
      ];
      for (const headers of cases) {
        for (const multipart of [false, true]) {
          const response = await putChunk(t.uploadUrl, id, chunk, 0, data.length, { headers, multipart });
          assertFragoError(response, 400, 'error', 'DIGEST_MISMATCH');
        }
      }
      await assertChunks(id, []);
      assert.equal(events.count(events.chunks, id), 0, 'no chunk.received for a refused chunk');
    });

    it('answers 200 to a correct Content-Digest or Content-MD5, raw and multipart', async () => {
      const data = testBytes(6000, 7);
      const id = await startOk(t.uploadUrl, 'digest-ok.bin', data.length);
      const chunks = [0, 1000, 2000, 3000, 4000, 5000].map((start) => data.subarray(start, start + 1000));
      const headers: Array<(c: Uint8Array) => Record<string, string>> = [
        (c) => ({ 'content-digest': contentDigest(c, 'sha256') }),
        (c) => ({ 'content-digest': contentDigest(c, 'sha512') }),
        (c) => ({ 'content-md5': md5Base64(c) }),
        (c) => ({ 'content-md5': digest(c, 'md5') }),
        (c) => ({ 'content-digest': `${contentDigest(c, 'sha256')}, ${contentDigest(c, 'sha512')}` }),
        (c) => ({ 'content-digest': `unknown-algo=:AAAA:, ${contentDigest(c, 'sha512')}`, 'content-md5': md5Base64(c) }),
      ];
      for (let i = 0; i < chunks.length; i++) {
        const response = await putChunk(t.uploadUrl, id, chunks[i], i * 1000, data.length, { headers: headers[i](chunks[i]), multipart: i % 2 === 1 });
        assert.equal(response.status, 200, `case ${i}: ${JSON.stringify(response.body)}`);
      }
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('accepts a chunk refused for a wrong digest when it is sent again with the right one', async () => {
      const data = testBytes(2000, 8);
      const id = await startOk(t.uploadUrl, 'retry.bin', data.length);
      const chunk = data.subarray(0, 2000);
      const bad = await putChunk(t.uploadUrl, id, chunk, 0, data.length, { headers: { 'content-digest': contentDigest(testBytes(2000, 9), 'sha256') } });
      assertFragoError(bad, 400, 'error', 'DIGEST_MISMATCH');
      const good = await putChunk(t.uploadUrl, id, chunk, 0, data.length, { headers: { 'content-digest': contentDigest(chunk, 'sha256') } });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.equal(good.body.duplicate, undefined);
      await assertChunks(id, [{ start: 0, end: 1999, size: 2000 }]);
    });

    it('answers 400 to a malformed Content-Digest or Content-MD5', async () => {
      const data = testBytes(100, 10);
      const id = await startOk(t.uploadUrl, 'malformed-digest.bin', data.length);
      const sha = createHash('sha256').update(data).digest('base64');
      const cases: Array<Record<string, string>> = [
        { 'content-digest': `sha-256=${sha}` },
        { 'content-digest': 'sha-256=:not base64!:' },
        { 'content-digest': `sha-256=:${createHash('sha256').update(data).digest('base64').slice(0, 20)}:` },
        { 'content-digest': `sha-512=:${sha}:` },
        { 'content-digest': 'garbage' },
        { 'content-md5': 'short' },
        { 'content-md5': sha },
      ];
      for (const headers of cases) {
        const response = await putChunk(t.uploadUrl, id, data, 0, data.length, { headers });
        assertFragoError(response, 400, 'error', 'INVALID_INPUT');
      }
      await assertChunks(id, []);
    });

    it('answers 200 with the duplicate body to a chunk with the same start and size as a stored one', async () => {
      const data = testBytes(300, 11);
      const id = await startOk(t.uploadUrl, 'dup.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 100), 0, data.length)).status, 200);
      for (const multipart of [false, true]) {
        const again = await putChunk(t.uploadUrl, id, data.subarray(0, 100), 0, data.length, { multipart });
        assert.equal(again.status, 200);
        assert.deepEqual(again.body, { status: true, message: 'Duplicate chunk already uploaded; skipped', start: 0, end: 99, size: 100, duplicate: true });
      }
      assert.equal(events.count(events.chunks, id), 1, 'chunk.received only for the first');
      await assertChunks(id, [{ start: 0, end: 99, size: 100 }]);
    });

    it('answers 409 when the range overlaps a different stored chunk', async () => {
      const data = testBytes(300, 12);
      const id = await startOk(t.uploadUrl, 'overlap.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(100, 200), 100, data.length)).status, 200);
      const overlapping: Array<[number, number]> = [
        [50, 150], // covers the start
        [150, 250], // covers the end
        [120, 130], // inside
        [0, 300], // around
        [100, 150], // same start, other size
        [100, 250], // same start, larger
        [199, 200], // last byte
        [99, 101], // first byte
      ];
      for (const [start, end] of overlapping) {
        const response = await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length);
        assertFragoError(response, 409, 'error', 'CHUNK_OVERLAP');
      }
      // Adjacent ranges do not overlap.
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 100), 0, data.length)).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(200, 300), 200, data.length)).status, 200);
      await assertChunks(id, [
        { start: 0, end: 99, size: 100 },
        { start: 100, end: 199, size: 100 },
        { start: 200, end: 299, size: 100 },
      ]);
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('answers 413 to a chunk above maxChunkSize and 200 at exactly maxChunkSize', async () => {
      const data = testBytes(MAX_CHUNK * 2 + 1, 13);
      const id = await startOk(t.uploadUrl, 'maxchunk.bin', data.length);
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, MAX_CHUNK + 1), 0, data.length), 413, 'error', 'CHUNK_TOO_LARGE');
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, MAX_CHUNK + 1), 0, data.length, { multipart: true }), 413, 'error', 'CHUNK_TOO_LARGE');
      await assertChunks(id, []);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, MAX_CHUNK), 0, data.length)).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(MAX_CHUNK, 2 * MAX_CHUNK), MAX_CHUNK, data.length, { multipart: true })).status, 200);
    });

    it('answers 409 to any PUT once the upload is complete', async () => {
      const data = testBytes(200, 14);
      const id = await startOk(t.uploadUrl, 'complete.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
      assertFragoError(await putChunk(t.uploadUrl, id, data, 0, data.length), 409, 'error', 'UPLOAD_COMPLETE');
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, 10), 0, data.length, { multipart: true }), 409, 'error', 'UPLOAD_COMPLETE');
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(100), 100, data.length), 409, 'error', 'UPLOAD_COMPLETE');
    });

    it('answers 404 with the "error" key for an unknown UUID and for an id that is not a UUID', async () => {
      const data = testBytes(10);
      assertFragoError(await putChunk(t.uploadUrl, randomUUID(), data, 0, 10), 404, 'error', 'UPLOAD_NOT_FOUND');
      assertFragoError(await putChunk(t.uploadUrl, randomUUID().toUpperCase(), data, 0, 10, { multipart: true }), 404, 'error', 'UPLOAD_NOT_FOUND');
      for (const id of ['not-a-uuid', '12345', `${randomUUID()}x`, '..%2F..%2Fetc']) {
        assertFragoError(await putChunk(t.uploadUrl, id, data, 0, 10), 404, 'error', 'UPLOAD_NOT_FOUND');
      }
    });

    it('accepts the upload id in upper case (UUIDs are case-insensitive)', async () => {
      const data = testBytes(10, 15);
      const id = await startOk(t.uploadUrl, 'upper.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id.toUpperCase(), data, 0, data.length)).status, 200);
      await assertChunks(id, [{ start: 0, end: 9, size: 10 }]);
    });

    it('raised no uncaught exception while answering any of the requests above', () => {
      assert.deepEqual(uncaught, []);
    });
  });
}
