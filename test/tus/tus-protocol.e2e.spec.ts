/**
 * The tus 1.0.0 core protocol on every database, through Fastify: OPTIONS,
 * creation, PATCH and HEAD, termination and checksum, with every status code
 * the specification gives (409, 415, 412, 400, 413, 404, 460). The other
 * extensions: tus-extensions.e2e.spec.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { databaseKinds } from '../helpers/test-databases';
import { getStatus, testBytes } from '../helpers/upload-client';
import { ALICE, OWNED_MAX, ownedTusSuite } from './support/tus-app';
import { assertTusError, createTus, headTus, metadata, patchTus, TUS, uploadChecksum } from './support/tus-http';
import { UPLOAD_ID_PATTERN } from 'nestjs-frago/dist/protocol/upload-id';

for (const kind of databaseKinds()) {
  describe(`tus 1.0.0 protocol on ${kind}`, () => {
    const suite = ownedTusSuite(kind);

    it('OPTIONS answers 204 with Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm and the CORS headers', async () => {
      const response = await fetch(`${suite.files}/`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': 'PATCH' },
      });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('tus-version'), '1.0.0');
      const extensions = (response.headers.get('tus-extension') ?? '').split(',');
      for (const name of ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'checksum', 'expiration', 'concatenation'])
        assert.ok(extensions.includes(name), name);
      assert.equal(response.headers.get('tus-max-size'), String(OWNED_MAX));
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
      const before = suite.events.completed.length;
      const { response, url, id } = await createTus(suite.files, {
        ...ALICE,
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: 'tus-plain.bin', filetype: 'application/x-test' }),
      });
      assert.equal(response.status, 201);
      assert.match(id, UPLOAD_ID_PATTERN);
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
      const status = await getStatus(suite.t.uploadUrl, id, ALICE);
      assert.equal(status.status, 200);
      assert.equal(status.body.filename, 'tus-plain.bin');
      assert.equal(status.body.received_bytes, 100_000);
      const last = await patchTus(url, 100_000, data.subarray(100_000), ALICE);
      assert.equal(last.status, 204);
      assert.equal(last.headers.get('upload-offset'), String(data.length));
      assert.deepEqual(suite.assembled('tus-plain.bin'), data, 'bytes verified on disk');
      assert.equal((await getStatus(suite.t.uploadUrl, id, ALICE)).body.status, 'complete');
      const done = await headTus(url, ALICE);
      assert.equal(done.headers.get('upload-offset'), String(data.length));
      assert.equal(suite.events.completed.length - before, 1);
      assert.equal(suite.events.count(suite.events.completed, id), 1, 'upload.completed once');
      assert.equal(suite.events.count(suite.events.started, id), 1, 'upload.started once');
      assert.equal(suite.events.count(suite.events.chunks, id), 2, 'chunk.received per PATCH');
    });

    it('answers 409 to a PATCH at a wrong offset and leaves the upload untouched', async () => {
      const data = testBytes(10_000, 12);
      const { url } = await suite.create(data.length);
      await assertTusError(await patchTus(url, 5, data.subarray(5), ALICE), 409, 'OFFSET_MISMATCH');
      assert.equal((await patchTus(url, 0, data.subarray(0, 4000), ALICE)).status, 204);
      await assertTusError(await patchTus(url, 0, data.subarray(0, 4000), ALICE), 409, 'OFFSET_MISMATCH');
      assert.equal((await headTus(url, ALICE)).headers.get('upload-offset'), '4000');
    });

    it('answers 415 to a PATCH with another Content-Type', async () => {
      const { url } = await suite.create(100);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), { ...ALICE, 'content-type': 'application/octet-stream' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 412 with Tus-Version when Tus-Resumable is missing or another version', async () => {
      const { url } = await suite.create(100);
      const wrong = await patchTus(url, 0, Buffer.alloc(100), { ...ALICE, 'tus-resumable': '0.2.2' });
      assert.equal(wrong.headers.get('tus-version'), '1.0.0');
      await assertTusError(wrong, 412, 'TUS_VERSION_UNSUPPORTED');
      const missing = await fetch(suite.files, { method: 'POST', headers: { ...ALICE, 'upload-length': '10' } });
      await assertTusError(missing, 412, 'TUS_VERSION_UNSUPPORTED');
    });

    it('answers 400 to a creation without Upload-Length or Upload-Defer-Length, and to a PATCH without Upload-Offset', async () => {
      await assertTusError((await createTus(suite.files, ALICE)).response, 400, 'INVALID_INPUT');
      await assertTusError((await createTus(suite.files, { ...ALICE, 'upload-length': 'ten' })).response, 400, 'INVALID_INPUT');
      const { url } = await suite.create(100);
      const response = await fetch(url, {
        method: 'PATCH',
        headers: { ...TUS, ...ALICE, 'content-type': 'application/offset+octet-stream' },
        body: Buffer.alloc(10) as unknown as BodyInit,
      });
      await assertTusError(response, 400, 'INVALID_INPUT');
    });

    it('answers 413 to an Upload-Length above Tus-Max-Size, and to a PATCH body past the upload length', async () => {
      await assertTusError((await createTus(suite.files, { ...ALICE, 'upload-length': String(OWNED_MAX + 1) })).response, 413, 'UPLOAD_TOO_LARGE');
      const { url } = await suite.create(1000);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(1001), ALICE), 413, 'UPLOAD_LENGTH_EXCEEDED');
    });

    it("answers 404 to a terminated upload (DELETE 204), an unknown UUID, a non-UUID, and another owner's upload", async () => {
      const { url, id } = await suite.create(100);
      await assertTusError(await headTus(url, { 'x-user': 'bob' }), 404);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), { 'x-user': 'bob' }), 404, 'UPLOAD_NOT_FOUND');
      const deleted = await fetch(url, { method: 'DELETE', headers: { ...TUS, ...ALICE } });
      assert.equal(deleted.status, 204);
      assert.equal(deleted.headers.get('tus-resumable'), '1.0.0');
      assert.equal(suite.events.count(suite.events.deleted, id), 1, 'upload.deleted once');
      await assertTusError(await headTus(url, ALICE), 404);
      await assertTusError(await patchTus(url, 0, Buffer.alloc(100), ALICE), 404, 'UPLOAD_NOT_FOUND');
      await assertTusError(await patchTus(`${suite.files}/${randomUUID()}`, 0, Buffer.alloc(1), ALICE), 404, 'UPLOAD_NOT_FOUND');
      await assertTusError(await patchTus(`${suite.files}/not-a-uuid`, 0, Buffer.alloc(1), ALICE), 404, 'UPLOAD_NOT_FOUND');
      assert.deepEqual(
        readdirSync(suite.t.chunkDir).filter((name) => name.includes(id)),
        [],
        'data removed',
      );
    });

    it('answers 460 to a PATCH whose Upload-Checksum does not match (nothing stored), 204 when it matches, 400 for an unknown algorithm', async () => {
      const data = testBytes(50_000, 13);
      const { url } = await suite.create(data.length);
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
  });
}
