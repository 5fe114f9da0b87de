import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';

const STATUS_KEYS = ['chunks', 'completed_at', 'created_at', 'expires_at', 'filename', 'missing', 'received_bytes', 'status', 'total_size', 'upload_id'];
const LIST_KEYS = ['completed_at', 'created_at', 'expires_at', 'filename', 'received_bytes', 'status', 'total_size', 'upload_id'];
const EXPIRATION = 60 * 60 * 1000;
const GiB = 1024 ** 3;

type Entry = Record<string, unknown> & { upload_id: string; created_at: string };

function isoTime(value: unknown): number {
  assert.equal(typeof value, 'string', `an ISO date string: ${String(value)}`);
  const time = Date.parse(value as string);
  assert.ok(Number.isFinite(time), `parsable date: ${String(value)}`);
  assert.equal(new Date(time).toISOString(), value, 'ISO 8601 in UTC');
  return time;
}

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

  describe(`listing (GET /upload/) in user mode on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const alice = { 'x-user': 'alice' };
    const bob = { 'x-user': 'bob' };
    const carol = { 'x-user': 'carol' };
    const aliceIds: string[] = [];
    let bobId: string;
    let aliceDone: string;

    async function list(query: string, headers: Record<string, string>): Promise<JsonResponse<Entry[]>> {
      return (await request(`${t.uploadUrl}/${query}`, { headers })) as unknown as JsonResponse<Entry[]>;
    }

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { identifierMode: 'user' } });
      for (let i = 0; i < 52; i++) aliceIds.push(await startOk(t.uploadUrl, `alice-${i}.bin`, 100 + i, alice));
      bobId = await startOk(t.uploadUrl, 'bob.bin', 5 * GiB, bob);
      const data = testBytes(100, 4);
      aliceDone = aliceIds[0];
      assert.equal((await putChunk(t.uploadUrl, aliceDone, data, 0, 100, { headers: alice })).status, 200);
      assert.equal((await finalize(t.uploadUrl, aliceDone, { checksum: digest(data) }, alice)).status, 201);
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it("answers 200 with only the caller's uploads, newest first, 50 by default", async () => {
      const response = await list('', alice);
      assert.equal(response.status, 200);
      assert.ok(Array.isArray(response.body));
      assert.equal(response.body.length, 50, 'default limit 50');
      const all = await list('?limit=1000', alice);
      assert.equal(all.body.length, 52);
      assert.deepEqual(new Set(all.body.map((entry) => entry.upload_id)), new Set(aliceIds), 'own uploads only');
      assert.ok(!all.body.some((entry) => entry.upload_id === bobId));
      assert.deepEqual(response.body, all.body.slice(0, 50), 'the default page is the first 50');
      // Newest first: created_at never increases, and ties aside, later starts come first.
      const times = all.body.map((entry) => Date.parse(entry.created_at));
      assert.ok(new Set(times).size > 1, 'the uploads span several milliseconds');
      for (let i = 1; i < all.body.length; i++) {
        assert.ok(times[i - 1] >= times[i], `created_at descending at ${i}`);
        if (times[i - 1] > times[i]) {
          assert.ok(aliceIds.indexOf(all.body[i - 1].upload_id) > aliceIds.indexOf(all.body[i].upload_id), `newer first at ${i}`);
        }
      }
      const bobs = await list('', bob);
      assert.deepEqual(
        bobs.body.map((entry) => entry.upload_id),
        [bobId],
      );
      assert.deepEqual(await list('', carol).then((r) => r.body), []);
    });

    it('lists entries with the status fields as JSON numbers and dates', async () => {
      const bobs = await list('', bob);
      const [entry] = bobs.body;
      assert.deepEqual(Object.keys(entry).sort(), LIST_KEYS);
      assert.equal(entry.filename, 'bob.bin');
      assert.equal(entry.total_size, 5 * GiB);
      assert.equal(entry.status, 'in_progress');
      assert.equal(entry.completed_at, null);
      assert.ok(isoTime(entry.expires_at) > isoTime(entry.created_at));
      const done = (await list('?status=complete', alice)).body;
      assert.equal(done.length, 1);
      assert.equal(done[0].upload_id, aliceDone);
      assert.equal(done[0].received_bytes, 100);
      assert.equal(done[0].total_size, 100);
      isoTime(done[0].completed_at);
    });

    it('lists the bytes received so far of an upload in progress, as its status does', async () => {
      const id = aliceIds[1];
      const data = testBytes(101, 5);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 30), 0, data.length, { headers: alice })).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(60, 101), 60, data.length, { headers: alice })).status, 200);
      const entry = (await list('?limit=1000', alice)).body.find((candidate) => candidate.upload_id === id);
      assert.equal(entry?.received_bytes, 71);
      assert.equal((await getStatus(t.uploadUrl, id, alice)).body.received_bytes, 71);
      const untouched = (await list('?limit=1000', alice)).body.find((candidate) => candidate.upload_id === aliceIds[2]);
      assert.equal(untouched?.received_bytes, 0);
    });

    it('pages with limit and offset', async () => {
      const all = (await list('?limit=1000', alice)).body.map((entry) => entry.upload_id);
      const page = (await list('?limit=2&offset=1', alice)).body.map((entry) => entry.upload_id);
      assert.deepEqual(page, all.slice(1, 3));
      const last = (await list('?limit=10&offset=50', alice)).body.map((entry) => entry.upload_id);
      assert.deepEqual(last, all.slice(50));
      assert.deepEqual((await list('?offset=52', alice)).body, []);
      assert.deepEqual((await list('?offset=1000000', alice)).body, []);
      assert.equal((await list('?limit=1', alice)).body.length, 1);
      assert.equal((await list('?limit=1000&offset=0', alice)).body.length, 52);
    });

    it('answers 400 to a limit outside 1–1000 or a bad offset', async () => {
      for (const query of ['?limit=1001', '?limit=0', '?limit=-1', '?limit=abc', '?limit=1.5', '?limit=10abc', '?offset=-1', '?offset=x', '?offset=0.5']) {
        assertFragoError(await list(query, alice), 400, 'message', 'INVALID_INPUT');
      }
    });

    it('filters by status, and answers 400 to an unknown status', async () => {
      const inProgress = (await list('?status=in_progress&limit=1000', alice)).body;
      assert.equal(inProgress.length, 51);
      assert.ok(inProgress.every((entry) => entry.status === 'in_progress'));
      assert.ok(!inProgress.some((entry) => entry.upload_id === aliceDone));
      const complete = (await list('?status=complete', alice)).body;
      assert.deepEqual(
        complete.map((entry) => entry.upload_id),
        [aliceDone],
      );
      assert.deepEqual((await list('?status=expired', alice)).body, []);
      for (const query of ['?status=bogus', '?status=COMPLETE', '?status=in_progress,complete']) {
        assertFragoError(await list(query, alice), 400, 'message', 'INVALID_INPUT');
      }
    });

    it('answers 401 or 403 to a list or status request without an authenticated user', async () => {
      const listed = await list('', {});
      assert.ok(listed.status === 401 || listed.status === 403, String(listed.status));
      assertFragoError(listed, listed.status, 'message');
      const status = await getStatus(t.uploadUrl, bobId);
      assert.ok(status.status === 401 || status.status === 403, String(status.status));
    });

    it("answers 200 to the owner's GET of one upload", async () => {
      const status = await getStatus(t.uploadUrl, bobId, bob);
      assert.equal(status.status, 200);
      assert.equal(status.body.total_size, 5 * GiB);
      assert.deepEqual(status.body.missing, [{ start: 0, end: 5 * GiB - 1 }]);
    });
  });
}
