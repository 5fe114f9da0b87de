import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { getStatus, testBytes } from '../helpers/upload-client';
import { assertNoLeak } from '../e2e/support/frago-http';
import { FragoEventLog } from '../helpers/frago-event-log';
import { tusSuite } from './support/tus-app';
import { createTus, headTus, metadata, openPatch, patchTus, TUS, uploadChecksum } from './support/tus-http';

const MAX = 4 * 1024 * 1024;
const ALICE = { 'x-user': 'alice' };

/** Status, `Tus-Resumable: 1.0.0`, and (with a body) frago's error shape with no leak. */
async function assertTusError(response: Response, status: number, code?: string): Promise<void> {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}`);
  assert.equal(response.headers.get('tus-resumable'), '1.0.0', 'Tus-Resumable on every response');
  const text = await response.text();
  if (text === '') return; // HEAD answers carry no body
  const body = JSON.parse(text) as { status: boolean; code: string; message: string };
  assert.equal(body.status, false);
  assert.equal(typeof body.message, 'string');
  if (code) assert.equal(body.code, code, text);
  assertNoLeak(text);
}

for (const kind of databaseKinds()) {
  describe(`tus 1.0.0 protocol on ${kind}`, () => {
    const suite = tusSuite(kind, { identifierMode: 'user', maxUploadSize: MAX, maxChunkSize: MAX });
    let t: TestApp;
    let files: string;
    let events: FragoEventLog;
    before(() => ({ t, files, events } = suite));

    /** Creates an upload of `length` bytes owned by alice. */
    async function create(length: number, extra: Record<string, string> = {}): Promise<{ url: string; id: string }> {
      const { response, url, id } = await createTus(files, { ...ALICE, 'upload-length': String(length), ...extra });
      assert.equal(response.status, 201);
      return { url, id };
    }

    function assembled(name: string): Buffer {
      return readFileSync(join(t.assembledDir, name));
    }

    it('OPTIONS answers 204 with Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm and the CORS headers', async () => {
      const response = await fetch(`${files}/`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'PATCH' } });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('tus-version'), '1.0.0');
      const extensions = (response.headers.get('tus-extension') ?? '').split(',');
      for (const name of ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'checksum', 'expiration', 'concatenation'])
        assert.ok(extensions.includes(name), name);
      assert.equal(response.headers.get('tus-max-size'), String(MAX));
      assert.equal(response.headers.get('tus-checksum-algorithm'), 'sha1,sha256,md5');
      assert.equal(response.headers.get('access-control-allow-origin'), 'http://example.test');
      const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const name of ['upload-offset', 'upload-length', 'upload-metadata', 'upload-concat', 'upload-checksum', 'tus-resumable', 'x-http-method-override'])
        assert.ok(allowed.includes(name), name);
      const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      for (const name of [
        'upload-offset',
        'location',
        'upload-length',
        'tus-version',
        'tus-resumable',
        'tus-max-size',
        'tus-extension',
        'upload-metadata',
        'upload-expires',
      ])
        assert.ok(exposed.includes(name), name);
    });

    it('creates (201 + Location with the UUID), takes PATCHes (204 + Upload-Offset), HEAD reports them, and publishes the file once complete', async () => {
      const data = testBytes(300_000, 11);
      const before = events.completed.length;
      const { response, url, id } = await createTus(files, {
        ...ALICE,
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: 'tus-plain.bin', filetype: 'application/x-test' }),
      });
      assert.equal(response.status, 201);
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.ok(response.headers.get('upload-expires'), 'Upload-Expires on creation');
      assert.equal(response.headers.get('tus-resumable'), '1.0.0');
      const first = await patchTus(url, 0, data.subarray(0, 100_000), ALICE);
      assert.equal(first.status, 204);
      assert.equal(first.headers.get('upload-offset'), '100000');
      assert.ok(first.headers.get('upload-expires'), 'Upload-Expires on PATCH');
      const head = await headTus(url, ALICE);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('upload-offset'), '100000');
      assert.equal(head.headers.get('upload-length'), String(data.length));
      assert.equal(head.headers.get('cache-control'), 'no-store');
      assert.equal(head.headers.get('upload-metadata'), metadata({ filename: 'tus-plain.bin', filetype: 'application/x-test' }));
      const status = await getStatus(t.uploadUrl, id, ALICE);
      assert.equal(status.status, 200);
      assert.equal(status.body.filename, 'tus-plain.bin');
      assert.equal(status.body.received_bytes, 100_000);
      const last = await patchTus(url, 100_000, data.subarray(100_000), ALICE);
      assert.equal(last.status, 204);
      assert.equal(last.headers.get('upload-offset'), String(data.length));
      assert.deepEqual(assembled('tus-plain.bin'), data, 'bytes verified on disk');
      assert.equal((await getStatus(t.uploadUrl, id, ALICE)).body.status, 'complete');
      const done = await headTus(url, ALICE);
      assert.equal(done.headers.get('upload-offset'), String(data.length));
      assert.equal(events.completed.length - before, 1);
      assert.equal(events.count(events.completed, id), 1, 'upload.completed once');
      assert.equal(events.count(events.started, id), 1, 'upload.started once');
      assert.equal(events.count(events.chunks, id), 2, 'chunk.received per PATCH');
    });

    it('answers 409 to a PATCH at a wrong offset and leaves the upload untouched', async () => {
      const data = testBytes(10_000, 12);
      const { url } = await create(data.length);
      await assertTusError(await patchTus(url, 5, data.subarray(5), ALICE), 409, 'OFFSET_MISMATCH');
      assert.equal((await patchTus(url, 0, data.subarray(0, 4000), ALICE)).status, 204);
      await assertTusError(await patchTus(url, 0, data.subarray(0, 4000), ALICE), 409, 'OFFSET_MISMATCH');
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), '4000');
    });

    it('answers 415 to a PATCH with another Content-Type', async () => {
      const { url } = await create(100);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), { ...ALICE, 'content-type': 'application/octet-stream' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 412 with Tus-Version when Tus-Resumable is missing or another version', async () => {
      const { url } = await create(100);
      const wrong = await patchTus(url, 0, Buffer.alloc(100), { ...ALICE, 'tus-resumable': '0.2.2' });
      assert.equal(wrong.headers.get('tus-version'), '1.0.0');
      await assertTusError(wrong, 412, 'TUS_VERSION_UNSUPPORTED');
      const missing = await fetch(files, { method: 'POST', headers: { ...ALICE, 'upload-length': '10' } });
      await assertTusError(missing, 412, 'TUS_VERSION_UNSUPPORTED');
    });

    it('answers 400 to a creation without Upload-Length or Upload-Defer-Length, and to a PATCH without Upload-Offset', async () => {
      await assertTusError((await createTus(files, ALICE)).response, 400, 'INVALID_INPUT');
      await assertTusError((await createTus(files, { ...ALICE, 'upload-length': 'ten' })).response, 400, 'INVALID_INPUT');
      const { url } = await create(100);
      const response = await fetch(url, {
        method: 'PATCH',
        headers: { ...TUS, ...ALICE, 'content-type': 'application/offset+octet-stream' },
        body: Buffer.alloc(10) as unknown as BodyInit,
      });
      await assertTusError(response, 400, 'INVALID_INPUT');
    });

    it('answers 413 to an Upload-Length above Tus-Max-Size, and to a PATCH body past the upload length', async () => {
      await assertTusError((await createTus(files, { ...ALICE, 'upload-length': String(MAX + 1) })).response, 413, 'UPLOAD_TOO_LARGE');
      const { url } = await create(1000);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(1001), ALICE), 413, 'UPLOAD_LENGTH_EXCEEDED');
    });

    it("answers 404 to a terminated upload (DELETE 204), an unknown UUID, a non-UUID, and another owner's upload", async () => {
      const { url, id } = await create(100);
      await assertTusError(await headTus(url, { 'x-user': 'bob' }), 404);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), { 'x-user': 'bob' }), 404, 'UPLOAD_NOT_FOUND');
      const deleted = await fetch(url, { method: 'DELETE', headers: { ...TUS, ...ALICE } });
      assert.equal(deleted.status, 204);
      assert.equal(deleted.headers.get('tus-resumable'), '1.0.0');
      assert.equal(events.count(events.deleted, id), 1, 'upload.deleted once');
      await assertTusError(await headTus(url, ALICE), 404);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), ALICE), 404, 'UPLOAD_NOT_FOUND');
      await assertTusError(await patchTus(`${files}/${randomUUID()}`, 0, Buffer.alloc(1), ALICE), 404, 'UPLOAD_NOT_FOUND');
      await assertTusError(await patchTus(`${files}/not-a-uuid`, 0, Buffer.alloc(1), ALICE), 404, 'UPLOAD_NOT_FOUND');
      assert.deepEqual(
        readdirSync(t.chunkDir).filter((name) => name.includes(id)),
        [],
        'data removed',
      );
    });

    it('answers 460 to a PATCH whose Upload-Checksum does not match (nothing stored), 204 when it matches, 400 for an unknown algorithm', async () => {
      const data = testBytes(50_000, 13);
      const { url } = await create(data.length);
      await assertTusError(
        await patchTus(url, 0, data, { ...ALICE, 'upload-checksum': uploadChecksum(Buffer.from('other'), 'sha256') }),
        460,
        'CHUNK_CHECKSUM_MISMATCH',
      );
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), '0', 'nothing stored');
      await assertTusError(await patchTus(url, 0, data, { ...ALICE, 'upload-checksum': 'crc32 AAAA' }), 400, 'UNSUPPORTED_ALGORITHM');
      for (const [algorithm, from, to] of [
        ['sha1', 0, 20_000],
        ['md5', 20_000, 30_000],
        ['sha256', 30_000, 50_000],
      ] as const) {
        const part = data.subarray(from, to);
        assert.equal((await patchTus(url, from, part, { ...ALICE, 'upload-checksum': uploadChecksum(part, algorithm) })).status, 204, algorithm);
      }
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), String(data.length));
    });

    it('creation-with-upload: the POST body is stored and Upload-Offset answers it', async () => {
      const data = testBytes(40_000, 14);
      const { response, url, id } = await createTus(
        files,
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
      assert.deepEqual(assembled('with-upload.bin'), data);
      assert.equal(events.count(events.completed, id), 1);
    });

    it('creation-defer-length: HEAD says Upload-Defer-Length until a PATCH sets Upload-Length, then the upload completes', async () => {
      const data = testBytes(30_000, 15);
      const { response, url } = await createTus(files, { ...ALICE, 'upload-defer-length': '1', 'upload-metadata': metadata({ filename: 'deferred.bin' }) });
      assert.equal(response.status, 201);
      assert.equal((await patchTus(url, 0, data.subarray(0, 10_000), ALICE)).status, 204);
      const head = await headTus(url, ALICE);
      assert.equal(head.headers.get('upload-defer-length'), '1');
      assert.equal(head.headers.get('upload-length'), null);
      assert.equal(head.headers.get('upload-offset'), '10000');
      assert.equal((await patchTus(url, 10_000, data.subarray(10_000), { ...ALICE, 'upload-length': String(data.length) })).status, 204);
      assert.equal((await headTus(url, ALICE)).headers.get('upload-length'), String(data.length));
      assert.deepEqual(assembled('deferred.bin'), data);
    });

    it('concatenation: a final upload over complete partials is created complete (201), HEAD shows Upload-Concat, partials are not published and go away', async () => {
      const data = testBytes(90_000, 16);
      const parts = [data.subarray(0, 30_000), data.subarray(30_000, 60_000), data.subarray(60_000)];
      const urls: string[] = [];
      for (const part of parts) {
        const { url } = await create(part.length, { 'upload-concat': 'partial' });
        assert.equal((await headTus(url, ALICE)).headers.get('upload-concat'), 'partial');
        assert.equal((await patchTus(url, 0, part, ALICE)).status, 204);
        urls.push(url);
      }
      assert.equal(readdirSync(t.assembledDir).filter((name) => name.startsWith('concat')).length, 0, 'partials are not published');
      const final = await createTus(files, {
        ...ALICE,
        'upload-concat': `final;${urls.map((url) => new URL(url).pathname).join(' ')}`,
        'upload-metadata': metadata({ filename: 'concat.bin' }),
      });
      assert.equal(final.response.status, 201);
      assert.deepEqual(assembled('concat.bin'), data, 'bytes verified on disk');
      const head = await headTus(final.url, ALICE);
      assert.equal(head.headers.get('upload-offset'), String(data.length));
      assert.equal(head.headers.get('upload-length'), String(data.length));
      assert.match(head.headers.get('upload-concat') ?? '', /^final;/);
      assert.equal(events.count(events.completed, final.id), 1, 'upload.completed once, for the final upload');
      await assertTusError(await patchTus(final.url, data.length, Buffer.alloc(1), ALICE), 403, 'FINAL_UPLOAD_IMMUTABLE');
      for (const url of urls) await assertTusError(await headTus(url, ALICE), 404);
      assert.equal((await getStatus(t.uploadUrl, final.id, ALICE)).body.status, 'complete');
    });

    it("concatenation: 400 when a partial is incomplete, 404 when it is another caller's", async () => {
      const { url } = await create(1000, { 'upload-concat': 'partial' });
      assert.equal((await patchTus(url, 0, Buffer.alloc(500), ALICE)).status, 204);
      await assertTusError((await createTus(files, { ...ALICE, 'upload-concat': `final;${url}` })).response, 400, 'INVALID_INPUT');
      await assertTusError((await createTus(files, { 'x-user': 'bob', 'upload-concat': `final;${url}` })).response, 404, 'UPLOAD_NOT_FOUND');
    });

    it('X-HTTP-Method-Override: a POST overridden to PATCH, HEAD and DELETE acts as that method', async () => {
      const data = testBytes(2000, 17);
      const { url } = await create(data.length);
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
      const { url, id } = await create(data.length, { 'upload-metadata': metadata({ filename: 'cut.bin' }) });
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
      await events.until(() => events.count(events.chunks, id) >= 1);
      assert.equal(events.count(events.chunks, id), 1, 'chunk.received once for the kept part');
      assert.equal((await patchTus(url, 70_000, data.subarray(70_000), ALICE)).status, 204);
      assert.deepEqual(assembled('cut.bin'), data);
    });

    it('two PATCHes at the same offset never both succeed', async () => {
      const data = testBytes(100_000, 19);
      const { url } = await create(data.length, { 'upload-metadata': metadata({ filename: 'race.bin' }) });
      const first = openPatch(url, 0, data.length, data.subarray(0, 10_000), ALICE);
      const second = await patchTus(url, 0, data, ALICE);
      const firstStatus = await first.finish(data.subarray(10_000));
      const statuses = [firstStatus, second.status].sort();
      assert.deepEqual(statuses, [204, 409], `one wins, one is refused: ${statuses.join(', ')}`);
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), String(data.length));
      assert.deepEqual(assembled('race.bin'), data);
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
