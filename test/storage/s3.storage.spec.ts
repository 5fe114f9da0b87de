/**
 * S3ChunkStorage against a real S3 engine: the shared ChunkStorage contract,
 * then what S3 adds (parts and chunk objects, server-side composition, no
 * overwrite, range reads, Content-MD5, maxParts). Cleanup and the sweep:
 * s3-cleanup.storage.spec.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import { testBytes } from '../helpers/upload-client';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { chunkStorageContract } from './chunk-storage.contract';
import { collect, MiB, storageOn, uploadAs } from './support/s3-storage';

const config = testS3Config();

if (!config) {
  reportS3Skipped('S3ChunkStorage contract and specifics');
} else {
  let shared: TestBucket;
  chunkStorageContract('S3ChunkStorage on a real S3 engine', async () => {
    shared = await createTestBucket(config);
    const { storage, prefix } = storageOn(shared);
    return { storage, readPublished: (relativePath) => shared.get(`${prefix}${relativePath}`), cleanup: () => shared.drop() };
  });

  describe('S3ChunkStorage specifics (cleanup: s3-cleanup.storage.spec.ts)', () => {
    let bucket: TestBucket;
    before(async () => {
      bucket = await createTestBucket(config);
    });
    after(async () => {
      await bucket?.drop();
    });

    it('publishes chunks of 6, 1, 1, 8, 2, 2 and 3 MiB arriving out of order byte-exact at s3://bucket/<prefix><name>', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const data = testBytes(23 * MiB, 91);
      const id = await uploadAs(
        storage,
        data,
        [6, 1, 1, 8, 2, 2, 3].map((n) => n * MiB),
      );
      const published = await storage.publish(id, 'mixed.bin');
      assert.equal(published?.location, `s3://${bucket.name}/${prefix}mixed.bin`);
      assert.ok((await bucket.get(`${prefix}mixed.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('chunks of at least 5 MiB on the MiB grid are written as parts: publish is one Complete and one CopyObject, no byte copied or re-sent', async () => {
      const { storage, prefix, sent } = storageOn(bucket);
      await storage.init();
      const data = testBytes(5 * MiB + 7 * MiB + 123, 102);
      const id = await uploadAs(storage, data, [5 * MiB, 7 * MiB, 123]);
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), [], 'no chunk object: every chunk went into a part');
      sent.length = 0;
      await storage.publish(id, 'direct.bin');
      assert.deepEqual(
        sent.filter((name) => /UploadPart/.test(name)),
        [],
        sent.join(),
      );
      assert.ok(sent.filter((name) => name === 'GetObjectCommand').length <= 1, `only the small seal record is read: ${sent.join()}`);
      assert.equal(sent.filter((name) => name === 'CompleteMultipartUploadCommand').length, 1, sent.join());
      assert.equal(sent.filter((name) => name === 'CopyObjectCommand').length, 1, sent.join());
      assert.ok((await bucket.get(`${prefix}direct.bin`))?.equals(data));
      const other = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config });
      assert.ok(
        (await collect(other.read(id, 5 * MiB - 10, 5 * MiB + 10))).equals(data.subarray(5 * MiB - 10, 5 * MiB + 11)),
        'another instance reads the sealed parts',
      );
      await storage.remove(id);
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/`), []);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });

    it('another instance reads parts not sealed yet by sealing them; later chunks then become chunk objects, and publish composes both', async () => {
      const { storage, prefix } = storageOn(bucket);
      const data = testBytes(16 * MiB + 5, 103);
      const id = randomUUID();
      await storage.create(id, data.length);
      await storage.writeChunk(id, 0, Readable.from([data.subarray(0, 6 * MiB)]));
      const other = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config });
      assert.ok((await collect(other.read(id, 0, 6 * MiB - 1))).equals(data.subarray(0, 6 * MiB)));
      await storage.writeChunk(id, 6 * MiB, Readable.from([data.subarray(6 * MiB)]));
      assert.equal((await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`)).length, 1, 'the chunk after the seal is a chunk object');
      assert.ok((await collect(other.read(id, 0, data.length - 1))).equals(data));
      await other.publish(id, 'sealed-then-more.bin');
      assert.ok((await bucket.get(`${prefix}sealed-then-more.bin`))?.equals(data));
      await storage.remove(id);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });

    it('a part re-written by a different chunk never passes for the first one: only records whose bytes S3 holds count', async () => {
      const { storage, prefix } = storageOn(bucket);
      const data = testBytes(12 * MiB, 104);
      const stale = testBytes(6 * MiB, 105);
      const id = randomUUID();
      await storage.create(id, data.length);
      // A lost commit: [0, 6 MiB) with other bytes went to part 1, then the chunk the database holds re-wrote it.
      await storage.writeChunk(id, 0, Readable.from([stale]));
      await storage.writeChunk(id, 0, Readable.from([data.subarray(0, 6 * MiB)]));
      await storage.writeChunk(id, 6 * MiB, Readable.from([data.subarray(6 * MiB)]));
      assert.equal((await bucket.keys(`${prefix}.frago/uploads/${id}/parts/`)).length, 3, 'both records of part 1 are there');
      await storage.publish(id, 'rewritten.bin');
      assert.ok((await bucket.get(`${prefix}rewritten.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('composes chunks of at least 5 MiB off the part grid server-side: no chunk byte is read or uploaded again at publish', async () => {
      const { storage, prefix, sent } = storageOn(bucket);
      await storage.init();
      const data = testBytes(5 * MiB + 1 + 7 * MiB + 123, 92);
      const id = await uploadAs(storage, data, [5 * MiB + 1, 7 * MiB, 123]);
      sent.length = 0;
      await storage.publish(id, 'copied.bin');
      assert.equal(sent.filter((name) => name === 'UploadPartCopyCommand').length, 3, sent.join());
      assert.deepEqual(
        sent.filter((name) => name === 'UploadPartCommand'),
        [],
        'no part passed through the app',
      );
      assert.ok((await bucket.get(`${prefix}copied.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('never replaces an object it did not write: a foreign object at the name makes publish resolve null, and the next name works', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const foreign = Buffer.from('someone else put this here');
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: `${prefix}report.pdf`, Body: foreign }));
      const data = testBytes(100_000, 93);
      const id = await uploadAs(storage, data, [60_000, 40_000]);
      assert.equal(await storage.publish(id, 'report.pdf'), null);
      assert.equal((await storage.publish(id, 'report-1.pdf'))?.relativePath, 'report-1.pdf');
      assert.ok((await bucket.get(`${prefix}report.pdf`))?.equals(foreign), 'the foreign object is untouched');
      assert.ok((await bucket.get(`${prefix}report-1.pdf`))?.equals(data));
      await storage.remove(id);
    });

    it('reading a range across chunk boundaries returns exactly those bytes, from another instance too', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const data = testBytes(300_000, 97);
      const id = await uploadAs(storage, data, [100_000, 100_000, 100_000]);
      const other = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config });
      assert.ok((await collect(other.read(id, 99_000, 201_000))).equals(data.subarray(99_000, 201_001)));
      await storage.remove(id);
    });

    it('refuses a chunk whose bytes do not match their Content-MD5 (the server checks it): nothing is stored', async () => {
      const { storage, prefix } = storageOn(bucket);
      const id = randomUUID();
      await storage.create(id, 10);
      // Corrupt the body after the MD5 was computed, as a broken proxy would.
      storage.client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers: Record<string, string> };
          if (request.headers?.['content-md5']) request.headers['content-md5'] = Buffer.alloc(16).toString('base64');
          return next(args);
        },
        { step: 'build', name: 'corruptMd5', priority: 'low' },
      );
      await assert.rejects(storage.writeChunk(id, 0, Readable.from([Buffer.alloc(10, 7)])));
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), []);
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/parts/`), [], 'no part record either');
      await assert.rejects(storage.writeChunk(id, 3, Readable.from([Buffer.alloc(7, 7)])), 'the same off the part grid, as a chunk object');
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), []);
    });

    it('never needs more parts than the engine allows (maxParts): three 5 MiB chunks in at most 2 parts, byte-exact', async () => {
      const prefix = `t-${randomUUID()}/`;
      const client = createS3Client(bucket.config);
      const parts: number[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const output = await next(args);
          const input = args.input as { Key?: string; MultipartUpload?: { Parts?: unknown[] } };
          // The published object's multipart upload (not the upload's own one, sealed in the staging area).
          if (context.commandName === 'CompleteMultipartUploadCommand' && !input.Key?.includes('.frago/'))
            parts.push((input.MultipartUpload?.Parts ?? []).length);
          return output;
        },
        { step: 'initialize', name: 'countParts' },
      );
      const storage = new S3ChunkStorage({ bucket: bucket.name, prefix, client, maxParts: 2 });
      const data = testBytes(15 * MiB + 10, 98);
      const id = await uploadAs(storage, data, [5 * MiB, 5 * MiB, 5 * MiB + 10]);
      await storage.publish(id, 'grouped.bin');
      assert.deepEqual(parts, [2]);
      assert.ok((await bucket.get(`${prefix}grouped.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('refuses at start an upload larger than maxParts parts of 5 GiB can hold, with 413 UPLOAD_TOO_LARGE, storing nothing', async () => {
      const prefix = `t-${randomUUID()}/`;
      const storage = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config, maxParts: 1 });
      const id = randomUUID();
      await assert.rejects(storage.create(id, 5 * 1024 ** 3 + 1), (error: Error & { code?: string; status?: number }) => {
        assert.equal(error.code, 'UPLOAD_TOO_LARGE');
        assert.match(error.message, /5368709120 bytes/);
        return true;
      });
      await storage.create(randomUUID(), 5 * 1024 ** 3); // exactly the limit is fine
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/`), []);
    });

    it('fails at construction without a bucket, naming the option', () => {
      assert.throws(() => new S3ChunkStorage({ bucket: '' }), /bucket/);
    });
  });
}
