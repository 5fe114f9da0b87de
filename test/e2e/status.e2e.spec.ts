/** GET /upload/:id/ (status) of new, partial, complete and huge uploads, and listing refused in anonymous mode (user-mode listing is in list.e2e.spec.ts). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';
import { GiB, isoTime } from './support/wire-checks';

const STATUS_KEYS = ['chunks', 'completed_at', 'created_at', 'expires_at', 'filename', 'missing', 'received_bytes', 'status', 'total_size', 'upload_id'];
const EXPIRATION = 60 * 60 * 1000;

for (const kind of databaseKinds()) {
  describe(`status (GET /upload/:id/) and anonymous listing on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { expiration: EXPIRATION } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('answers 200 with every field for a new upload: nothing received, everything missing', async () => {
      const before = Date.now();
      const id = await startOk(t.uploadUrl, 'fresh.bin', 1000);
      const after = Date.now();
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.deepEqual(Object.keys(status.body).sort(), STATUS_KEYS);
      assert.equal(status.body.upload_id, id);
      assert.equal(status.body.filename, 'fresh.bin');
      assert.equal(status.body.total_size, 1000);
      assert.equal(status.body.status, 'in_progress');
      const created = isoTime(status.body.created_at);
      assert.ok(created >= before - 1 && created <= after + 1, 'created_at is the start time');
      assert.equal(isoTime(status.body.expires_at), created + EXPIRATION, 'expires_at = created_at + expiration');
      assert.equal(status.body.completed_at, null);
      assert.equal(status.body.received_bytes, 0);
      assert.deepEqual(status.body.chunks, []);
      assert.deepEqual(status.body.missing, [{ start: 0, end: 999 }]);
    });

    it('answers 200 with the stored chunks in order, received_bytes and the gaps after out-of-order chunks', async () => {
      const data = testBytes(1000, 1);
      const id = await startOk(t.uploadUrl, 'partial.bin', data.length);
      for (const [start, end] of [
        [700, 900],
        [0, 100],
        [300, 400],
      ] as const) {
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: start === 0 })).status, 200);
      }
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.body.status, 'in_progress');
      assert.equal(status.body.received_bytes, 400);
      assert.deepEqual(status.body.chunks, [
        { start: 0, end: 99, size: 100 },
        { start: 300, end: 399, size: 100 },
        { start: 700, end: 899, size: 200 },
      ]);
      assert.deepEqual(status.body.missing, [
        { start: 100, end: 299 },
        { start: 400, end: 699 },
        { start: 900, end: 999 },
      ]);
      assert.equal(status.body.completed_at, null);
    });

    it('answers 200 with status complete, completed_at, received_bytes = total_size and no missing range once finalized', async () => {
      const data = testBytes(2048, 2);
      const id = await startOk(t.uploadUrl, 'finished.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(1024), 1024, data.length)).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 1024), 0, data.length)).status, 200);
      const beforeFinalize = Date.now();
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
      const status = await getStatus(t.uploadUrl, id);
      assert.deepEqual(Object.keys(status.body).sort(), STATUS_KEYS);
      assert.equal(status.body.status, 'complete');
      assert.equal(status.body.total_size, 2048);
      assert.equal(status.body.received_bytes, 2048);
      assert.deepEqual(status.body.missing, []);
      assert.ok(Array.isArray(status.body.chunks));
      const completed = isoTime(status.body.completed_at);
      assert.ok(completed >= beforeFinalize - 1 && completed <= Date.now() + 1, 'completed_at is the finalize time');
      assert.ok(completed >= isoTime(status.body.created_at));
    });

    it('answers exact JSON numbers for sizes above 2^32 (6 GiB upload, chunk at 5 GiB)', async () => {
      const total = 6 * GiB;
      const offset = 5 * GiB;
      const chunk = testBytes(1024, 3);
      const id = await startOk(t.uploadUrl, 'huge.bin', total);
      const put = await putChunk(t.uploadUrl, id, chunk, offset, total);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body, { status: true, message: 'Chunk uploaded', start: offset, end: offset + 1023, size: 1024 });
      const response = await fetch(`${t.uploadUrl}/${id}/`);
      const text = await response.text();
      assert.match(text, /"total_size":6442450944[,}]/, 'a bare JSON number, not a string');
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.equal(body.total_size, 6442450944);
      assert.equal(body.received_bytes, 1024);
      assert.deepEqual(body.chunks, [{ start: 5368709120, end: 5368710143, size: 1024 }]);
      assert.deepEqual(body.missing, [
        { start: 0, end: 5368709119 },
        { start: 5368710144, end: 6442450943 },
      ]);
      for (const value of [body.total_size, body.received_bytes]) assert.equal(typeof value, 'number');
      // The duplicate of that chunk is recognised by its 64-bit start too.
      const again = await putChunk(t.uploadUrl, id, chunk, offset, total);
      assert.equal(again.body.duplicate, true);
      assertFragoError(await putChunk(t.uploadUrl, id, chunk, offset + 512, total), 409, 'error', 'CHUNK_OVERLAP');
    });

    it('answers 200 to anyone holding the UUID in anonymous mode', async () => {
      const id = await startOk(t.uploadUrl, 'capability.bin', 10);
      const other = await getStatus(t.uploadUrl, id, { 'x-user': 'someone-else' });
      assert.equal(other.status, 200);
      assert.equal(other.body.upload_id, id);
      assert.equal((await getStatus(t.uploadUrl, id.toUpperCase())).body.upload_id, id);
    });

    it('answers 404 with the "message" key for an unknown UUID and for an id that is not a UUID', async () => {
      assertFragoError(await getStatus(t.uploadUrl, randomUUID()), 404, 'message', 'UPLOAD_NOT_FOUND');
      for (const id of ['not-a-uuid', '1', `${randomUUID()}0`]) {
        assertFragoError(await getStatus(t.uploadUrl, id), 404, 'message', 'UPLOAD_NOT_FOUND');
      }
    });

    it('answers 403 to a list request in anonymous mode', async () => {
      await startOk(t.uploadUrl, 'listed.bin', 10);
      assertFragoError(await request(`${t.uploadUrl}/`), 403, 'message', 'LIST_FORBIDDEN');
      assertFragoError(await request(`${t.uploadUrl}?limit=10&status=in_progress`), 403, 'message', 'LIST_FORBIDDEN');
      assertFragoError(await request(`${t.uploadUrl}/`, { headers: { 'x-user': 'alice' } }), 403, 'message', 'LIST_FORBIDDEN');
    });
  });
}
