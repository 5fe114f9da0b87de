/**
 * The tus 1.0.0 extensions beyond the core on every database, through
 * Fastify: creation-with-upload, creation-defer-length, concatenation,
 * X-HTTP-Method-Override, a PATCH cut mid-body, two PATCHes at one offset,
 * and expiration (410). The core protocol: tus-protocol.e2e.spec.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { getStatus, testBytes } from '../helpers/upload-client';
import { ALICE, ownedTusSuite } from './support/tus-app';
import { assertTusError, createTus, headTus, metadata, openPatch, patchTus, TUS } from './support/tus-http';

for (const kind of databaseKinds()) {
  describe(`tus 1.0.0 extensions on ${kind}`, () => {
    const suite = ownedTusSuite(kind);

    it('creation-with-upload: the POST body is stored and Upload-Offset answers it', async () => {
      const data = testBytes(40_000, 14);
      const { response, url, id } = await createTus(
        suite.files,
        {
          ...ALICE,
          'upload-length': String(data.length),
          'content-type': 'application/offset+octet-stream',
          'upload-metadata': metadata({ filename: 'with-upload.bin' }),
        },
        data.subarray(0, 25_000),
      );
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('upload-offset'), '25000');
      assert.equal((await patchTus(url, 25_000, data.subarray(25_000), ALICE)).status, 204);
      assert.deepEqual(suite.assembled('with-upload.bin'), data);
      assert.equal(suite.events.count(suite.events.completed, id), 1);
    });

    it('creation-defer-length: HEAD says Upload-Defer-Length until a PATCH sets Upload-Length, then the upload completes', async () => {
      const data = testBytes(30_000, 15);
      const { response, url } = await createTus(suite.files, {
        ...ALICE,
        'upload-defer-length': '1',
        'upload-metadata': metadata({ filename: 'deferred.bin' }),
      });
      assert.equal(response.status, 201);
      assert.equal((await patchTus(url, 0, data.subarray(0, 10_000), ALICE)).status, 204);
      const head = await headTus(url, ALICE);
      assert.equal(head.headers.get('upload-defer-length'), '1');
      assert.equal(head.headers.get('upload-length'), null);
      assert.equal(head.headers.get('upload-offset'), '10000');
      assert.equal((await patchTus(url, 10_000, data.subarray(10_000), { ...ALICE, 'upload-length': String(data.length) })).status, 204);
      assert.equal((await headTus(url, ALICE)).headers.get('upload-length'), String(data.length));
      assert.deepEqual(suite.assembled('deferred.bin'), data);
    });

    it('concatenation: a final upload over complete partials is created complete (201), HEAD shows Upload-Concat, partials are not published and go away', async () => {
      const data = testBytes(90_000, 16);
      const parts = [data.subarray(0, 30_000), data.subarray(30_000, 60_000), data.subarray(60_000)];
      const urls: string[] = [];
      for (const part of parts) {
        const { url } = await suite.create(part.length, { 'upload-concat': 'partial' });
        assert.equal((await headTus(url, ALICE)).headers.get('upload-concat'), 'partial');
        assert.equal((await patchTus(url, 0, part, ALICE)).status, 204);
        urls.push(url);
      }
      assert.equal(readdirSync(suite.t.assembledDir).filter((name) => name.startsWith('concat')).length, 0, 'partials are not published');
      const final = await createTus(suite.files, {
        ...ALICE,
        'upload-concat': `final;${urls.map((url) => new URL(url).pathname).join(' ')}`,
        'upload-metadata': metadata({ filename: 'concat.bin' }),
      });
      assert.equal(final.response.status, 201);
      assert.deepEqual(suite.assembled('concat.bin'), data, 'bytes verified on disk');
      const head = await headTus(final.url, ALICE);
      assert.equal(head.headers.get('upload-offset'), String(data.length));
      assert.equal(head.headers.get('upload-length'), String(data.length));
      assert.match(head.headers.get('upload-concat') ?? '', /^final;/);
      assert.equal(suite.events.count(suite.events.completed, final.id), 1, 'upload.completed once, for the final upload');
      await assertTusError(await patchTus(final.url, data.length, Buffer.alloc(1), ALICE), 403, 'FINAL_UPLOAD_IMMUTABLE');
      for (const url of urls) await assertTusError(await headTus(url, ALICE), 404);
      assert.equal((await getStatus(suite.t.uploadUrl, final.id, ALICE)).body.status, 'complete');
    });

    it("concatenation: 400 when a partial is incomplete, 404 when it is another caller's", async () => {
      const { url } = await suite.create(1000, { 'upload-concat': 'partial' });
      assert.equal((await patchTus(url, 0, Buffer.alloc(500), ALICE)).status, 204);
      await assertTusError((await createTus(suite.files, { ...ALICE, 'upload-concat': `final;${url}` })).response, 400, 'INVALID_INPUT');
      await assertTusError((await createTus(suite.files, { 'x-user': 'bob', 'upload-concat': `final;${url}` })).response, 404, 'UPLOAD_NOT_FOUND');
    });

    it('X-HTTP-Method-Override: a POST overridden to PATCH, HEAD and DELETE acts as that method', async () => {
      const data = testBytes(2000, 17);
      const { url } = await suite.create(data.length);
      const patched = await fetch(url, {
        method: 'POST',
        headers: { ...TUS, ...ALICE, 'x-http-method-override': 'PATCH', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
        body: data.subarray(0, 1000) as unknown as BodyInit,
      });
      assert.equal(patched.status, 204);
      assert.equal(patched.headers.get('upload-offset'), '1000');
      const head = await fetch(url, { method: 'POST', headers: { ...TUS, ...ALICE, 'x-http-method-override': 'HEAD' } });
      assert.equal(head.headers.get('upload-offset'), '1000');
      assert.equal((await fetch(url, { method: 'POST', headers: { ...TUS, ...ALICE, 'x-http-method-override': 'DELETE' } })).status, 204);
      await assertTusError(await headTus(url, ALICE), 404);
    });

    it('a PATCH cut mid-body keeps the bytes that arrived; HEAD reports them and the upload resumes from there', async () => {
      const data = testBytes(200_000, 18);
      const { url, id } = await suite.create(data.length, { 'upload-metadata': metadata({ filename: 'cut.bin' }) });
      const patch = openPatch(url, 0, data.length, data.subarray(0, 70_000), ALICE);
      patch.cut();
      await patch.status;
      let offset = '';
      for (let attempt = 0; attempt < 200 && offset !== '70000'; attempt++) {
        offset = (await headTus(url, ALICE)).headers.get('upload-offset') ?? '';
        if (offset !== '70000') await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(offset, '70000', 'the durable prefix counts');
      // chunk.received fires right after the commit HEAD may already have seen.
      await suite.events.until(() => suite.events.count(suite.events.chunks, id) >= 1);
      assert.equal(suite.events.count(suite.events.chunks, id), 1, 'chunk.received once for the kept part');
      assert.equal((await patchTus(url, 70_000, data.subarray(70_000), ALICE)).status, 204);
      assert.deepEqual(suite.assembled('cut.bin'), data);
    });

    it('two PATCHes at the same offset never both succeed', async () => {
      const data = testBytes(100_000, 19);
      const { url } = await suite.create(data.length, { 'upload-metadata': metadata({ filename: 'race.bin' }) });
      const first = openPatch(url, 0, data.length, data.subarray(0, 10_000), ALICE);
      const second = await patchTus(url, 0, data, ALICE);
      const firstStatus = await first.finish(data.subarray(10_000));
      const statuses = [firstStatus, second.status].sort();
      assert.deepEqual(statuses, [204, 409], `one wins, one is refused: ${statuses.join(', ')}`);
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), String(data.length));
      assert.deepEqual(suite.assembled('race.bin'), data);
    });
  });

  describe(`tus expiry on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { expiration: 1 }, extras: { tusPath: 'files' } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('answers 410 to HEAD and PATCH of an expired upload', async () => {
      const { response, url } = await createTus(`${t.baseUrl}/api/files`, { 'upload-length': '100' });
      assert.equal(response.status, 201);
      await assertTusError(await headTus(url), 410);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100)), 410, 'UPLOAD_EXPIRED');
    });
  });
}
