/**
 * S3ChunkStorage leaves nothing behind, against a real S3 engine: after
 * publish and remove() only the published object; an aborted composition, a
 * crashed instance's staging objects and multipart uploads, and a dead
 * finalize's name claim are swept, and nothing newer than the cut-off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { S3ChunkStorage } from 'nestjs-frago/s3';
import { testBytes } from '../helpers/upload-client';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { dieAt, MiB, storageOn, uploadAs } from './support/s3-storage';

const config = testS3Config();

if (!config) {
  reportS3Skipped('S3ChunkStorage cleanup');
} else {
  describe('S3ChunkStorage cleanup', () => {
    let bucket: TestBucket;
    before(async () => {
      bucket = await createTestBucket(config);
    });
    after(async () => {
      await bucket?.drop();
    });

    it('after publish and remove() only the published object is left: no staging object, no multipart upload', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const id = await uploadAs(storage, testBytes(11 * MiB, 94), [6 * MiB, 5 * MiB]);
      await storage.publish(id, 'only.bin');
      await storage.remove(id);
      const left = (await bucket.keys(prefix)).filter((key) => !key.startsWith(`${prefix}.frago/names/`));
      assert.deepEqual(left, [`${prefix}only.bin`]);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });

    it('remove() of an aborted upload whose publish died mid-composition leaves no object and no multipart upload', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const id = await uploadAs(storage, testBytes(12 * MiB, 95), [6 * MiB, 6 * MiB]);
      // A crash between the parts and Complete: Complete and the clean-up Abort never reach the server.
      const revive = dieAt(storage, ['CompleteMultipartUploadCommand', 'AbortMultipartUploadCommand']);
      await assert.rejects(storage.publish(id, 'never.bin'));
      assert.equal((await bucket.multipartUploads(prefix)).length, 1, 'the dead composition left its multipart upload');
      revive();
      await storage.remove(id);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
      const left = (await bucket.keys(prefix)).filter((key) => !key.startsWith(`${prefix}.frago/names/`));
      assert.deepEqual(left, []);
      assert.equal(await bucket.get(`${prefix}never.bin`), null);
    });

    it("the expiry sweep removes a crashed instance's staging objects and multipart uploads, and nothing newer", async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const dead = await uploadAs(storage, testBytes(12 * MiB, 96), [6 * MiB, 6 * MiB]);
      const revive = dieAt(storage, ['CompleteMultipartUploadCommand', 'AbortMultipartUploadCommand']);
      await assert.rejects(storage.publish(dead, 'dead.bin'));
      revive();
      const sweeper = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config, orphanGrace: 0 });
      await sweeper.sweep(new Date(Date.now() - 60 * 60 * 1000));
      assert.ok((await bucket.keys(`${prefix}.frago/uploads/${dead}/`)).length > 0, 'data newer than the cut-off stays');
      await sweeper.sweep(new Date(Date.now() + 60 * 1000));
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/`), []);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });

    it('the sweep also frees a name claimed by a finalize that died before composing, and keeps the claim of a published object', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const names = `${prefix}.frago/names/`;
      const kept = await uploadAs(storage, testBytes(1000, 99), [1000]);
      await storage.publish(kept, 'kept.bin');
      await storage.remove(kept);
      const dead = await uploadAs(storage, testBytes(2000, 100), [2000]);
      const revive = dieAt(storage, ['CreateMultipartUploadCommand', 'CopyObjectCommand']);
      await assert.rejects(storage.publish(dead, 'claimed.bin'));
      revive();
      assert.deepEqual((await bucket.keys(names)).sort(), [`${names}claimed.bin`, `${names}kept.bin`]);
      const sweeper = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config, orphanGrace: 0 });
      await sweeper.sweep(new Date(Date.now() - 60 * 60 * 1000));
      assert.deepEqual((await bucket.keys(names)).sort(), [`${names}claimed.bin`, `${names}kept.bin`], 'markers newer than the cut-off stay');
      assert.ok((await bucket.keys(`${prefix}.frago/uploads/${dead}/`)).length > 0);
      await sweeper.sweep(new Date(Date.now() + 60 * 1000));
      assert.deepEqual(await bucket.keys(names), [`${names}kept.bin`], 'the dead claim is gone, the published object keeps its claim');
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/`), []);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
      const data = testBytes(3000, 101);
      const next = await uploadAs(storage, data, [3000]);
      assert.equal((await storage.publish(next, 'claimed.bin'))?.relativePath, 'claimed.bin', 'the freed name can be claimed again');
      assert.ok((await bucket.get(`${prefix}claimed.bin`))?.equals(data));
      await storage.remove(next);
    });
  });
}
