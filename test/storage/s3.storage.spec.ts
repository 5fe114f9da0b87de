import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import { testBytes } from '../helpers/upload-client';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { chunkStorageContract } from './chunk-storage.contract';

const MiB = 1024 * 1024;
const config = testS3Config();

/** Collects a stream into one buffer. */
async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** A storage on a fresh prefix of `bucket` whose client counts the commands it sends. */
function storageOn(bucket: TestBucket, prefix = `t-${randomUUID()}/`): { storage: S3ChunkStorage; prefix: string; sent: string[] } {
  const client = createS3Client(bucket.config);
  const sent: string[] = [];
  client.middlewareStack.add((next, context) => (args) => {
    sent.push(context.commandName as string);
    return next(args);
  }, { step: 'initialize', name: 'countCommands' });
  return { storage: new S3ChunkStorage({ bucket: bucket.name, prefix, client }), prefix, sent };
}

/** Creates an upload of `data` stored as the chunks `sizes` (in that order of offsets), sent in reverse. */
async function uploadAs(storage: S3ChunkStorage, data: Buffer, sizes: number[]): Promise<string> {
  assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
  const id = randomUUID();
  await storage.create(id, data.length);
  const ranges: [number, number][] = [];
  let offset = 0;
  for (const size of sizes) {
    ranges.push([offset, size]);
    offset += size;
  }
  await Promise.all(ranges.reverse().map(([start, size]) => storage.writeChunk(id, start, Readable.from([data.subarray(start, start + size)]))));
  return id;
}

if (!config) {
  reportS3Skipped('S3ChunkStorage contract and specifics');
} else {
  let shared: TestBucket;
  chunkStorageContract('S3ChunkStorage on a real S3 engine', async () => {
    shared = await createTestBucket(config);
    const { storage, prefix } = storageOn(shared);
    return { storage, readPublished: (relativePath) => shared.get(`${prefix}${relativePath}`), cleanup: () => shared.drop() };
  });

  describe('S3ChunkStorage specifics', () => {
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
      const id = await uploadAs(storage, data, [6, 1, 1, 8, 2, 2, 3].map((n) => n * MiB));
      const published = await storage.publish(id, 'mixed.bin');
      assert.equal(published?.location, `s3://${bucket.name}/${prefix}mixed.bin`);
      assert.ok((await bucket.get(`${prefix}mixed.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('composes chunks of at least 5 MiB server-side: no chunk byte is read or uploaded again at publish', async () => {
      const { storage, prefix, sent } = storageOn(bucket);
      await storage.init();
      const data = testBytes(5 * MiB + 7 * MiB + 123, 92);
      const id = await uploadAs(storage, data, [5 * MiB, 7 * MiB, 123]);
      sent.length = 0;
      await storage.publish(id, 'copied.bin');
      assert.equal(sent.filter((name) => name === 'UploadPartCopyCommand').length, 3, sent.join());
      assert.deepEqual(sent.filter((name) => name === 'UploadPartCommand'), [], 'no part passed through the app');
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
      storage.client.middlewareStack.add((next, context) => (args) => {
        if (context.commandName === 'CompleteMultipartUploadCommand' || context.commandName === 'AbortMultipartUploadCommand') throw new Error('instance died (simulated)');
        return next(args);
      }, { step: 'initialize', name: 'dieBeforeComplete' });
      await assert.rejects(storage.publish(id, 'never.bin'));
      assert.equal((await bucket.multipartUploads(prefix)).length, 1, 'the dead composition left its multipart upload');
      storage.client.middlewareStack.remove('dieBeforeComplete');
      await storage.remove(id);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
      const left = (await bucket.keys(prefix)).filter((key) => !key.startsWith(`${prefix}.frago/names/`));
      assert.deepEqual(left, []);
      assert.equal(await bucket.get(`${prefix}never.bin`), null);
    });

    it('the expiry sweep removes a crashed instance\'s staging objects and multipart uploads, and nothing newer', async () => {
      const { storage, prefix } = storageOn(bucket);
      await storage.init();
      const dead = await uploadAs(storage, testBytes(12 * MiB, 96), [6 * MiB, 6 * MiB]);
      storage.client.middlewareStack.add((next, context) => (args) => {
        if (context.commandName === 'CompleteMultipartUploadCommand' || context.commandName === 'AbortMultipartUploadCommand') throw new Error('instance died (simulated)');
        return next(args);
      }, { step: 'initialize', name: 'dieBeforeComplete' });
      await assert.rejects(storage.publish(dead, 'dead.bin'));
      storage.client.middlewareStack.remove('dieBeforeComplete');
      const sweeper = new S3ChunkStorage({ bucket: bucket.name, prefix, clientConfig: bucket.config, orphanGrace: 0 });
      await sweeper.sweep(new Date(Date.now() - 60 * 60 * 1000));
      assert.ok((await bucket.keys(`${prefix}.frago/uploads/${dead}/`)).length > 0, 'data newer than the cut-off stays');
      await sweeper.sweep(new Date(Date.now() + 60 * 1000));
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/`), []);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
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
      storage.client.middlewareStack.add((next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        if (request.headers?.['content-md5']) request.headers['content-md5'] = Buffer.alloc(16).toString('base64');
        return next(args);
      }, { step: 'build', name: 'corruptMd5', priority: 'low' });
      await assert.rejects(storage.writeChunk(id, 0, Readable.from([Buffer.alloc(10, 7)])));
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), []);
    });

    it('fails at construction without a bucket, naming the option', () => {
      assert.throws(() => new S3ChunkStorage({ bucket: '' }), /bucket/);
    });
  });
}
