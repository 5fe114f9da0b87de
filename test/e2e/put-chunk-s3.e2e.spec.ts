/**
 * A frago chunk PUT with `Content-MD5` on the S3 backend, against a real Ceph
 * RGW: the chunk streams straight to the bucket with the client's MD5, which
 * the server verifies. A wrong one is a 400 DIGEST_MISMATCH with nothing
 * counted, also next to a correct Content-Digest; the right one counts and
 * the upload publishes byte-exact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError } from './support/frago-http';

const MiB = 1024 * 1024;
const config = testS3Config();

const md5Base64 = (data: Uint8Array): string => createHash('md5').update(data).digest('base64');
const sha256Digest = (data: Uint8Array): string => `sha-256=:${createHash('sha256').update(data).digest('base64')}:`;

if (!config) {
  reportS3Skipped('frago PUT with Content-MD5 on S3');
} else {
  const kind = databaseKinds().includes('postgres') ? 'postgres' : 'sqlite';
  describe(`frago PUT with Content-MD5 on S3 (Ceph RGW) with ${kind}`, () => {
    let db: TestDatabase;
    let bucket: TestBucket;
    let t: TestApp;
    const prefix = `md5-${randomUUID()}/`;

    before(async () => {
      db = await createTestDatabase(kind);
      bucket = await createTestBucket(config);
      const storage = new S3ChunkStorage({ bucket: bucket.name, prefix, client: createS3Client(bucket.config) });
      t = await createTestApp({ db, options: { storage, maxChunkSize: 16 * MiB } });
    });
    after(async () => {
      await t?.close();
      await bucket?.drop();
      await db?.drop();
    });

    it('answers 400 DIGEST_MISMATCH to a wrong Content-MD5 (a part and a small chunk) and counts nothing; the right one counts', async () => {
      const data = testBytes(7 * MiB, 81);
      const id = await startOk(t.uploadUrl, 's3-md5.bin', data.length);
      const part = data.subarray(0, 6 * MiB);
      const small = data.subarray(6 * MiB);
      const wrong = md5Base64(Buffer.from('other bytes'));
      for (const multipart of [false, true]) {
        assertFragoError(
          await putChunk(t.uploadUrl, id, part, 0, data.length, { headers: { 'content-md5': wrong }, multipart }),
          400,
          'error',
          'DIGEST_MISMATCH',
        );
        const headers = { 'content-md5': wrong, 'content-digest': sha256Digest(small) };
        assertFragoError(await putChunk(t.uploadUrl, id, small, 6 * MiB, data.length, { headers, multipart }), 400, 'error', 'DIGEST_MISMATCH');
      }
      assert.deepEqual((await getStatus(t.uploadUrl, id)).body.chunks, [], 'nothing counted');
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/parts/`), [], 'no part record');
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), [], 'no chunk object');
      assert.equal((await putChunk(t.uploadUrl, id, part, 0, data.length, { headers: { 'content-md5': md5Base64(part) } })).status, 200);
      assert.equal(
        (await putChunk(t.uploadUrl, id, small, 6 * MiB, data.length, { headers: { 'content-md5': digest(small, 'md5') }, multipart: true })).status,
        200,
      );
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data, 'md5'), checksum_algo: 'md5' })).status, 201);
      assert.ok((await bucket.get(`${prefix}s3-md5.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
    });
  });
}
