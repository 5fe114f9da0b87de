/** GET /upload/ (listing) in user mode: the caller's uploads only, paging, filters and the status fields, and ownership of one upload. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';
import { GiB, isoTime } from './support/wire-checks';

const LIST_KEYS = ['completed_at', 'created_at', 'expires_at', 'filename', 'received_bytes', 'status', 'total_size', 'upload_id'];

type Entry = Record<string, unknown> & { upload_id: string; created_at: string };

for (const kind of databaseKinds()) {
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
