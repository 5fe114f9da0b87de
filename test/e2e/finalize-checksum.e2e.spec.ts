/** Finalize checksums: required, algorithms, mismatch (the upload stays resumable), non-hex digests; checksumType and doChecksum. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHashes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChunkUpload } from 'nestjs-frago';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, testBytes } from '../helpers/upload-client';
import { assertFragoError } from './support/frago-http';
import { uploadPieces, uploadWhole } from './support/upload-steps';
import { useTestApp } from './support/use-test-app';

for (const kind of databaseKinds()) {
  describe(`finalize checksums (POST /upload/:id/) on ${kind}`, () => {
    const app = useTestApp(kind);

    it('answers 400 "Checksum required" when no checksum is sent', async () => {
      const data = testBytes(500, 4);
      const id = await uploadWhole(app.t.uploadUrl, 'nochecksum.bin', data);
      for (const body of [{}, { checksum_algo: 'md5' }, { checksum: '' }]) {
        const response = await finalize(app.t.uploadUrl, id, body);
        assert.equal(assertFragoError(response, 400, 'message', 'CHECKSUM_REQUIRED'), 'Checksum required');
      }
      assert.equal((await getStatus(app.t.uploadUrl, id)).body.status, 'in_progress');
    });

    it('answers 400 to an unsupported checksum algorithm', async () => {
      const data = testBytes(500, 5);
      const id = await uploadWhole(app.t.uploadUrl, 'algo.bin', data);
      for (const algo of ['nope', 'sha-256-but-wrong', 'md5; rm -rf /']) {
        const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: algo });
        assertFragoError(response, 400, 'message', 'UNSUPPORTED_ALGORITHM');
      }
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'sha512'), checksum_algo: 'SHA512' })).status, 201);
    });

    it('records every algorithm node:crypto supports, even the longest names (34 characters): 201 and the algorithm in the row', async () => {
      const longest = getHashes().filter((name) => name.length > 32);
      assert.ok(longest.includes('id-rsassa-pkcs1-v1_5-with-sha3-256'), JSON.stringify(longest));
      for (const algo of longest) {
        const data = testBytes(700, 8);
        const id = await uploadWhole(app.t.uploadUrl, 'long-algo.bin', data);
        const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data, algo), checksum_algo: algo });
        assert.equal(response.status, 201, `${algo}: ${JSON.stringify(response.body)}`);
        const row = await app.t.app.get(DataSource).getRepository(ChunkUpload).findOneByOrFail({ id });
        assert.equal(row.checksumAlgo, algo);
      }
    });

    it('answers a clear 400 to a checksum_algo longer than the column (65 characters), never 500', async () => {
      const data = testBytes(500, 9);
      const id = await uploadWhole(app.t.uploadUrl, 'too-long-algo.bin', data);
      const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: 'a'.repeat(65) });
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.match(String((response.body as { message?: unknown }).message), /checksum_algo is too long/);
      assert.equal((await getStatus(app.t.uploadUrl, id)).body.status, 'in_progress');
    });

    it('answers 400 "Checksum mismatch", emits checksum.failed once, publishes nothing, and the upload stays resumable', async () => {
      const data = testBytes(20_000, 6);
      const id = await uploadWhole(app.t.uploadUrl, 'mismatch.bin', data);
      const before = readdirSync(app.t.assembledDir);
      const response = await finalize(app.t.uploadUrl, id, { checksum: digest(testBytes(20_000, 7)), checksum_algo: 'md5' });
      assert.equal(assertFragoError(response, 400, 'message', 'CHECKSUM_MISMATCH'), 'Checksum mismatch');
      assert.equal(app.events.count(app.events.checksumFailed, id), 1, 'checksum.failed once');
      const failed = app.events.checksumFailed.find((event) => event.upload.id === id);
      assert.equal(failed?.algorithm, 'md5');
      assert.equal(failed?.actual, digest(data));
      assert.equal(app.events.count(app.events.completed, id), 0);
      assert.deepEqual(readdirSync(app.t.assembledDir), before, 'nothing appeared in the assembled folder');
      const status = await getStatus(app.t.uploadUrl, id);
      assert.equal(status.body.status, 'in_progress');
      assert.equal(status.body.received_bytes, data.length);
      assert.deepEqual(status.body.missing, []);
      // Resumable: a chunk can be sent again (as a duplicate) and a correct finalize completes it.
      const again = await putChunk(app.t.uploadUrl, id, data.subarray(0, 4096), 0, data.length);
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: 'md5' });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'mismatch.bin')), data);
      assert.equal(app.events.count(app.events.checksumFailed, id), 1, 'still only one checksum.failed');
      assert.equal(app.events.count(app.events.completed, id), 1);
    });

    it('answers 400 to a checksum that is not a hex digest', async () => {
      const data = testBytes(100, 8);
      const id = await uploadWhole(app.t.uploadUrl, 'nothex.bin', data);
      assertFragoError(await finalize(app.t.uploadUrl, id, { checksum: 'zz-not-hex-zz' }), 400, 'message');
      assertFragoError(await finalize(app.t.uploadUrl, id, { checksum: 12345 }), 400, 'message');
      assert.equal(app.events.count(app.events.checksumFailed, id), 0);
    });
  });

  describe(`finalize with checksumType 'sha256' on ${kind}`, () => {
    const app = useTestApp(kind, { checksumType: 'sha256' });

    it('answers 201 to a sha256 checksum sent without checksum_algo (it defaults to checksumType)', async () => {
      const data = testBytes(5000, 20);
      const id = await uploadWhole(app.t.uploadUrl, 'default-algo.bin', data);
      const md5 = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'md5') });
      assertFragoError(md5, 400, 'message', 'CHECKSUM_MISMATCH');
      assert.equal(app.events.checksumFailed.find((event) => event.upload.id === id)?.algorithm, 'sha256');
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'sha256') });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'default-algo.bin')), data);
    });

    it('still honours an explicit checksum_algo', async () => {
      const data = testBytes(5000, 21);
      const id = await uploadWhole(app.t.uploadUrl, 'explicit-algo.bin', data);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'md5'), checksum_algo: 'md5' });
      assert.equal(done.status, 201, JSON.stringify(done.body));
    });
  });

  describe(`finalize with doChecksum false on ${kind}`, () => {
    const app = useTestApp(kind, { doChecksum: false });

    it('answers 201 without a checksum', async () => {
      const data = testBytes(7000, 30);
      const id = await uploadWhole(app.t.uploadUrl, 'unchecked.bin', data);
      const done = await finalize(app.t.uploadUrl, id, {});
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'unchecked.bin')), data);
      assert.equal(app.events.count(app.events.completed, id), 1);
    });

    it('still answers 400 "Not all chunks uploaded" to an incomplete upload', async () => {
      const data = testBytes(7000, 31);
      const id = await uploadPieces(app.t.uploadUrl, 'unchecked-gap.bin', data, [[0, 3000]]);
      const refused = await finalize(app.t.uploadUrl, id, {});
      assertFragoError(refused, 400, 'message', 'INCOMPLETE_UPLOAD');
      assert.deepEqual(refused.body.missing, [{ start: 3000, end: 6999 }]);
    });
  });
}
