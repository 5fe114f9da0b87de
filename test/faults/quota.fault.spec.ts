/**
 * Per-identifier quotas in `user` mode. One caller cannot
 * hold more than `maxActiveUploadsPerIdentifier` uploads in progress nor
 * reserve more than `maxActiveBytesPerIdentifier` bytes, not even by firing
 * its starts all at once; 429 QUOTA_EXCEEDED says what to do; other callers
 * are unaffected; finishing or deleting an upload frees its share.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { deleteUpload, digest, finalize, putChunk, startOk, startUpload, testBytes } from '../helpers/upload-client';

const MAX_UPLOADS = 3;
const MAX_BYTES = 1000;
const user = (name: string): Record<string, string> => ({ 'x-user': name });

for (const kind of databaseKinds()) {
  describe(`per-identifier quotas in user mode (${kind})`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({
        db,
        options: { identifierMode: 'user', maxActiveUploadsPerIdentifier: MAX_UPLOADS, maxActiveBytesPerIdentifier: MAX_BYTES },
      });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('answers 429 QUOTA_EXCEEDED past the upload count, not for another user, and frees a slot on delete or completion', async () => {
      const alice = user('alice');
      const ids = [];
      for (let i = 0; i < MAX_UPLOADS; i++) ids.push(await startOk(t.uploadUrl, `a${i}.bin`, 100, alice));
      const refused = await startUpload(t.uploadUrl, { filename: 'a-more.bin', total_size: 100 }, alice);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.status, false);
      assert.equal(refused.body.code, 'QUOTA_EXCEEDED');
      assert.match(String(refused.body.message), /Too many uploads in progress \(limit 3\); finish or delete one first/);
      assert.ok(refused.headers.get('retry-after'));
      await startOk(t.uploadUrl, 'b.bin', 100, user('bob'));

      assert.equal((await deleteUpload(t.uploadUrl, ids[0], alice)).status, 204);
      ids[0] = await startOk(t.uploadUrl, 'a-again.bin', 100, alice);
      const data = testBytes(100, 5);
      assert.equal((await putChunk(t.uploadUrl, ids[1], data, 0, 100, { headers: alice })).status, 200);
      assert.equal((await finalize(t.uploadUrl, ids[1], { checksum: digest(data) }, alice)).status, 201);
      await startOk(t.uploadUrl, 'a-after-complete.bin', 100, alice);
      assert.equal((await startUpload(t.uploadUrl, { filename: 'a-over.bin', total_size: 100 }, alice)).status, 429);
    });

    it('answers 429 when the reserved bytes would pass the cap', async () => {
      const carol = user('carol');
      await startOk(t.uploadUrl, 'c1.bin', 400, carol);
      const refused = await startUpload(t.uploadUrl, { filename: 'c2.bin', total_size: MAX_BYTES - 399 }, carol);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.code, 'QUOTA_EXCEEDED');
      assert.match(String(refused.body.message), /more than 1000 bytes/);
      await startOk(t.uploadUrl, 'c2.bin', MAX_BYTES - 400, carol);
    });

    it('starts fired all at once never admit more than the cap', async () => {
      const dave = user('dave');
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => startUpload(t.uploadUrl, { filename: `d${i}.bin`, total_size: 10 }, dave)));
      for (const answer of answers) assert.ok(answer.status === 201 || answer.status === 429, `${answer.status} ${JSON.stringify(answer.body)}`);
      const admitted = answers.filter((answer) => answer.status === 201).length;
      assert.equal(admitted, MAX_UPLOADS, 'starts of one identifier are admitted one at a time, up to the cap');
      const listed = await fetch(`${t.uploadUrl}/?status=in_progress`, { headers: dave });
      assert.equal(((await listed.json()) as unknown[]).length, admitted, 'refused starts leave no upload behind');
    });
  });
}
