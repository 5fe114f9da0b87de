import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import { testBytes } from '../helpers/upload-client';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';

const MiB = 1024 * 1024;
const config = testS3Config();

const md5 = (data: Buffer): Buffer => createHash('md5').update(data).digest();

/**
 * Yields `data` in 256 KiB pieces; before the last one it waits until `sent`
 * resolves (the storage dispatched its request), so it ends only if the
 * storage streams the body instead of spooling it first.
 */
async function* heldBack(data: Buffer, sent: Promise<void>): AsyncGenerator<Buffer> {
  const piece = 256 * 1024;
  for (let at = 0; at < data.length; at += piece) {
    if (at + piece >= data.length) await sent;
    yield data.subarray(at, at + piece);
  }
}

/** Yields the first `bytes` of `data`, then fails as a cut connection does. */
async function* cutAfter(data: Buffer, bytes: number): AsyncGenerator<Buffer> {
  yield data.subarray(0, bytes);
  throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

if (!config) {
  reportS3Skipped('S3ChunkStorage with client Content-MD5');
} else {
  describe('S3ChunkStorage with the client Content-MD5 (chunks stream straight to the bucket)', () => {
    let bucket: TestBucket;
    const spoolDirs: string[] = [];
    before(async () => {
      bucket = await createTestBucket(config);
    });
    after(async () => {
      await bucket.drop();
      for (const dir of spoolDirs) await rm(dir, { recursive: true, force: true });
    });

    /** A storage on a fresh prefix and spool folder; `sent()` resolves when its client next dispatches an UploadPart or a chunk's PutObject. */
    async function storageOn(): Promise<{ storage: S3ChunkStorage; prefix: string; spoolDir: string; sent: () => Promise<void> }> {
      const spoolDir = await mkdtemp(join(tmpdir(), 'frago-s3-streamed-'));
      spoolDirs.push(spoolDir);
      const client = createS3Client(bucket.config);
      let waiting: Array<() => void> = [];
      client.middlewareStack.add(
        (next, context) => (args) => {
          const command = context.commandName as string;
          if (command === 'UploadPartCommand' || (command === 'PutObjectCommand' && (args.input as { Key: string }).Key.includes('/chunks/'))) {
            for (const resolve of waiting) resolve();
            waiting = [];
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: 'chunkSent' },
      );
      const prefix = `t-${randomUUID()}/`;
      const storage = new S3ChunkStorage({ bucket: bucket.name, prefix, client, spoolDir });
      return {
        storage,
        prefix,
        spoolDir,
        sent: () => new Promise<void>((resolve) => waiting.push(resolve)),
      };
    }

    it('sends a part and a chunk object before their last byte arrived, and publishes them byte-exact', { timeout: 120_000 }, async () => {
      const { storage, prefix, sent } = await storageOn();
      await storage.init();
      const data = testBytes(9 * MiB, 61);
      const id = randomUUID();
      await storage.create(id, data.length);
      const part = data.subarray(0, 6 * MiB);
      assert.equal(
        await storage.writeChunk(id, 0, Readable.from(heldBack(part, sent())), undefined, undefined, { size: part.length, md5: md5(part) }),
        part.length,
      );
      // Below the part minimum, and off the part grid: chunk objects, streamed the same way.
      for (const [start, end] of [
        [6 * MiB, 6 * MiB + 1000],
        [6 * MiB + 1000, data.length],
      ]) {
        const chunk = data.subarray(start, end);
        assert.equal(
          await storage.writeChunk(id, start, Readable.from(heldBack(chunk, sent())), undefined, undefined, { size: chunk.length, md5: md5(chunk) }),
          chunk.length,
        );
      }
      assert.equal((await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`)).length, 2, 'two chunk objects');
      assert.ok(Buffer.concat(await Readable.from(storage.read(id, 0, data.length - 1)).toArray()).equals(data), 'read back from the spool copies');
      const published = await storage.publish(id, 'streamed.bin');
      assert.equal(published?.location, `s3://${bucket.name}/${prefix}streamed.bin`);
      assert.ok((await bucket.get(`${prefix}streamed.bin`))?.equals(data));
      await storage.remove(id);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });

    it('a wrong client Content-MD5 is refused by the server as DIGEST_MISMATCH: nothing is stored or kept', async () => {
      const { storage, prefix, spoolDir } = await storageOn();
      const data = testBytes(6 * MiB, 62);
      const id = randomUUID();
      await storage.create(id, data.length + 10);
      const wrong = md5(Buffer.from('not these bytes'));
      await assert.rejects(storage.writeChunk(id, 0, Readable.from([data]), undefined, undefined, { size: data.length, md5: wrong }), {
        code: 'DIGEST_MISMATCH',
      });
      const chunk = data.subarray(0, 10);
      await assert.rejects(storage.writeChunk(id, 3, Readable.from([chunk]), undefined, undefined, { size: 10, md5: wrong }), { code: 'DIGEST_MISMATCH' });
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/parts/`), [], 'no part record');
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`), [], 'no chunk object');
      assert.deepEqual(await readdir(spoolDir), [], 'no spool copy left');
      await storage.remove(id);
    });

    it('a body cut mid-stream, or shorter than announced, rejects and leaves nothing counted', async () => {
      const { storage, prefix, spoolDir } = await storageOn();
      const data = testBytes(6 * MiB, 63);
      const id = randomUUID();
      await storage.create(id, data.length);
      const hints = { size: data.length, md5: md5(data) };
      await assert.rejects(storage.writeChunk(id, 0, Readable.from(cutAfter(data, 3 * MiB)), undefined, undefined, hints), { code: 'ECONNRESET' });
      await assert.rejects(storage.writeChunk(id, 0, Readable.from([data.subarray(0, 4 * MiB)]), undefined, undefined, hints), { code: 'CHUNK_SIZE_MISMATCH' });
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/parts/`), [], 'no part record');
      assert.deepEqual(await readdir(spoolDir), [], 'no spool copy left');
      // The chunk sent whole then counts, and the upload publishes byte-exact.
      assert.equal(await storage.writeChunk(id, 0, Readable.from([data]), undefined, undefined, hints), data.length);
      await storage.publish(id, 'resent.bin');
      assert.ok((await bucket.get(`${prefix}resent.bin`))?.equals(data));
      await storage.remove(id);
    });

    it('once another instance sealed the parts, a streamed chunk falls back to a chunk object from its local copy', async () => {
      const { storage, prefix } = await storageOn();
      const other = new S3ChunkStorage({ bucket: bucket.name, prefix, client: createS3Client(bucket.config), readCacheBytes: 0 });
      const data = testBytes(12 * MiB, 64);
      const id = randomUUID();
      await storage.create(id, data.length);
      const first = data.subarray(0, 6 * MiB);
      await storage.writeChunk(id, 0, Readable.from([first]), undefined, undefined, { size: first.length, md5: md5(first) });
      assert.ok(Buffer.concat(await Readable.from(other.read(id, 0, 99)).toArray()).equals(data.subarray(0, 100)), 'the other instance seals to read');
      const second = data.subarray(6 * MiB);
      assert.equal(
        await storage.writeChunk(id, 6 * MiB, Readable.from([second]), undefined, undefined, { size: second.length, md5: md5(second) }),
        second.length,
      );
      assert.equal((await bucket.keys(`${prefix}.frago/uploads/${id}/chunks/`)).length, 1, 'the second chunk is a chunk object');
      await storage.publish(id, 'fallback.bin');
      assert.ok((await bucket.get(`${prefix}fallback.bin`))?.equals(data));
      await storage.remove(id);
      assert.deepEqual(await bucket.multipartUploads(prefix), []);
    });
  });
}
