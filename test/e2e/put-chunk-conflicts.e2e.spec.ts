/** PUT /upload/:id/ against what is stored: duplicates, overlaps, maxChunkSize, a complete upload, unknown and upper-case ids. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError } from './support/frago-http';
import { assertChunks, MAX_CHUNK } from './support/put-chunk';
import { useTestApp } from './support/use-test-app';

for (const kind of databaseKinds()) {
  describe(`chunk conflicts and limits on PUT /upload/:id/ on ${kind}`, () => {
    const app = useTestApp(kind, { maxChunkSize: MAX_CHUNK }, { failOnUncaught: true });

    it('answers 200 with the duplicate body to a chunk with the same start and size as a stored one', async () => {
      const data = testBytes(300, 11);
      const id = await startOk(app.t.uploadUrl, 'dup.bin', data.length);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(0, 100), 0, data.length)).status, 200);
      for (const multipart of [false, true]) {
        const again = await putChunk(app.t.uploadUrl, id, data.subarray(0, 100), 0, data.length, { multipart });
        assert.equal(again.status, 200);
        assert.deepEqual(again.body, { status: true, message: 'Duplicate chunk already uploaded; skipped', start: 0, end: 99, size: 100, duplicate: true });
      }
      assert.equal(app.events.count(app.events.chunks, id), 1, 'chunk.received only for the first');
      await assertChunks(app.t.uploadUrl, id, [{ start: 0, end: 99, size: 100 }]);
    });

    it('answers 409 when the range overlaps a different stored chunk', async () => {
      const data = testBytes(300, 12);
      const id = await startOk(app.t.uploadUrl, 'overlap.bin', data.length);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(100, 200), 100, data.length)).status, 200);
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
        const response = await putChunk(app.t.uploadUrl, id, data.subarray(start, end), start, data.length);
        assertFragoError(response, 409, 'error', 'CHUNK_OVERLAP');
      }
      // Adjacent ranges do not overlap.
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(0, 100), 0, data.length)).status, 200);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(200, 300), 200, data.length)).status, 200);
      await assertChunks(app.t.uploadUrl, id, [
        { start: 0, end: 99, size: 100 },
        { start: 100, end: 199, size: 100 },
        { start: 200, end: 299, size: 100 },
      ]);
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('answers 413 to a chunk above maxChunkSize and 200 at exactly maxChunkSize', async () => {
      const data = testBytes(MAX_CHUNK * 2 + 1, 13);
      const id = await startOk(app.t.uploadUrl, 'maxchunk.bin', data.length);
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(0, MAX_CHUNK + 1), 0, data.length), 413, 'error', 'CHUNK_TOO_LARGE');
      assertFragoError(
        await putChunk(app.t.uploadUrl, id, data.subarray(0, MAX_CHUNK + 1), 0, data.length, { multipart: true }),
        413,
        'error',
        'CHUNK_TOO_LARGE',
      );
      await assertChunks(app.t.uploadUrl, id, []);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(0, MAX_CHUNK), 0, data.length)).status, 200);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(MAX_CHUNK, 2 * MAX_CHUNK), MAX_CHUNK, data.length, { multipart: true })).status, 200);
    });

    it('answers 409 to any PUT once the upload is complete', async () => {
      const data = testBytes(200, 14);
      const id = await startOk(app.t.uploadUrl, 'complete.bin', data.length);
      assert.equal((await putChunk(app.t.uploadUrl, id, data, 0, data.length)).status, 200);
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data) })).status, 201);
      assertFragoError(await putChunk(app.t.uploadUrl, id, data, 0, data.length), 409, 'error', 'UPLOAD_COMPLETE');
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(0, 10), 0, data.length, { multipart: true }), 409, 'error', 'UPLOAD_COMPLETE');
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(100), 100, data.length), 409, 'error', 'UPLOAD_COMPLETE');
    });

    it('answers 404 with the "error" key for an unknown UUID and for an id that is not a UUID', async () => {
      const data = testBytes(10);
      assertFragoError(await putChunk(app.t.uploadUrl, randomUUID(), data, 0, 10), 404, 'error', 'UPLOAD_NOT_FOUND');
      assertFragoError(await putChunk(app.t.uploadUrl, randomUUID().toUpperCase(), data, 0, 10, { multipart: true }), 404, 'error', 'UPLOAD_NOT_FOUND');
      for (const id of ['not-a-uuid', '12345', `${randomUUID()}x`, '..%2F..%2Fetc']) {
        assertFragoError(await putChunk(app.t.uploadUrl, id, data, 0, 10), 404, 'error', 'UPLOAD_NOT_FOUND');
      }
    });

    it('accepts the upload id in upper case (UUIDs are case-insensitive)', async () => {
      const data = testBytes(10, 15);
      const id = await startOk(app.t.uploadUrl, 'upper.bin', data.length);
      assert.equal((await putChunk(app.t.uploadUrl, id.toUpperCase(), data, 0, data.length)).status, 200);
      await assertChunks(app.t.uploadUrl, id, [{ start: 0, end: 9, size: 10 }]);
    });
  });
}
