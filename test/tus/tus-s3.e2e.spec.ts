/**
 * tus on the S3 backend, against a real Ceph RGW: tus-js-client
 * uploads sequentially and with `parallelUploads: 4`, and the published
 * object holds exactly the bytes. The final concatenation is server-side:
 * every stored chunk of the partials is copied inside the bucket
 * (CopyObject) and the final object is composed with UploadPartCopy from
 * those copies; no partial's bytes are read back through the app (no
 * GetObject of a partial's chunk). Partials of less than the 5 MiB part
 * minimum still concatenate (through the app, as small frago chunks do).
 * The commands are seen by a middleware on the app's own S3 client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Upload, type UploadOptions } from 'tus-js-client';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { getStatus, testBytes } from '../helpers/upload-client';
import { FragoEventLog } from '../helpers/frago-event-log';

const MiB = 1024 * 1024;
const config = testS3Config();

/** One S3 command the app sent: its name and the key it names (or copies from). */
interface SentCommand {
  command: string;
  key: string;
  copySource: string;
}

function tusUpload(data: Buffer, options: UploadOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(data, { retryDelays: [], ...options, onSuccess: () => resolve(upload.url ?? ''), onError: reject });
    upload.start();
  });
}

if (!config) {
  reportS3Skipped('tus on S3');
} else {
  // One database is enough here: the ledger side of tus runs on every database in the other tus suites.
  const kind = databaseKinds().includes('postgres') ? 'postgres' : 'sqlite';
  describe(`tus on S3 (Ceph RGW) with ${kind}`, () => {
    let db: TestDatabase;
    let bucket: TestBucket;
    let t: TestApp;
    let events: FragoEventLog;
    const prefix = `tus-${randomUUID()}/`;
    const sent: SentCommand[] = [];

    before(async () => {
      db = await createTestDatabase(kind);
      bucket = await createTestBucket(config);
      const client = createS3Client(bucket.config);
      client.middlewareStack.add(
        (next, context) => (args) => {
          const input = args.input as { Key?: string; CopySource?: string };
          sent.push({ command: context.commandName as string, key: input.Key ?? '', copySource: decodeURIComponent(input.CopySource ?? '') });
          return next(args);
        },
        { step: 'initialize', name: 'recordCommands' },
      );
      const storage = new S3ChunkStorage({ bucket: bucket.name, prefix, client });
      t = await createTestApp({
        db,
        providers: [FragoEventLog],
        options: { storage, maxChunkSize: 64 * MiB, maxUploadSize: 256 * MiB },
        extras: { tusPath: 'files' },
      });
      events = t.app.get(FragoEventLog);
    });
    after(async () => {
      await t?.close();
      await bucket?.drop();
      await db?.drop();
    });

    const endpoint = (): string => `${t.baseUrl}/api/files/`;
    const idOf = (url: string): string => url.split('/').pop() as string;
    /** The uploads' chunk folders under the staging area. */
    const chunkFolder = (id: string): string => `${prefix}.frago/uploads/${id}/chunks/`;

    it('uploads sequentially in 4 MiB PATCHes; the published object equals the source', async () => {
      const data = testBytes(11 * MiB + 333, 71);
      const url = await tusUpload(data, { endpoint: endpoint(), chunkSize: 4 * MiB, metadata: { filename: 's3-seq.bin' } });
      assert.ok((await bucket.get(`${prefix}s3-seq.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
      assert.equal((await getStatus(t.uploadUrl, idOf(url))).body.status, 'complete');
      assert.equal(events.count(events.completed, idOf(url)), 1);
    });

    it('parallelUploads: 4 with partials of 6 MiB: concatenated server-side (CopyObject, then UploadPartCopy), no partial byte read back', async () => {
      const data = testBytes(24 * MiB + 4444, 72);
      const before = sent.length;
      const url = await tusUpload(data, { endpoint: endpoint(), chunkSize: 8 * MiB, parallelUploads: 4, metadata: { filename: 's3-par.bin' } });
      const id = idOf(url);
      assert.ok((await bucket.get(`${prefix}s3-par.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
      assert.equal((await getStatus(t.uploadUrl, id)).body.status, 'complete');
      assert.equal(events.count(events.completed, id), 1, 'upload.completed once, for the final upload');

      const during = sent.slice(before);
      const copies = during.filter((c) => c.command === 'CopyObjectCommand');
      assert.equal(copies.length, 4, 'one server-side copy per stored chunk of the 4 partials');
      for (const copy of copies) assert.ok(copy.key.startsWith(chunkFolder(id)), `copied into the final upload's chunks: ${copy.key}`);
      const partialIds = new Set(copies.map((copy) => copy.copySource.split('/uploads/')[1]?.split('/')[0]));
      assert.equal(partialIds.size, 4, 'from the four partial uploads');
      assert.ok(!partialIds.has(id));
      const partCopies = during.filter((c) => c.command === 'UploadPartCopyCommand' && c.key === `${prefix}s3-par.bin`);
      assert.equal(partCopies.length, 4, 'the final object composed from the 4 copies with UploadPartCopy');
      const readsOfPartials = during.filter((c) => c.command === 'GetObjectCommand' && [...partialIds].some((part) => c.key.startsWith(chunkFolder(part))));
      assert.deepEqual(readsOfPartials, [], 'no byte of a partial goes through the app');
      for (const part of partialIds) assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${part}/`), [], `partial ${part} removed`);
      assert.deepEqual(await bucket.keys(`${prefix}.frago/uploads/${id}/`), [], 'the final upload keeps no staging object');
    });

    it('parallelUploads: 4 with partials below the part minimum: still one byte-exact object', async () => {
      const data = testBytes(3 * MiB + 17, 73);
      const url = await tusUpload(data, { endpoint: endpoint(), chunkSize: 512 * 1024, parallelUploads: 4, metadata: { filename: 's3-small-par.bin' } });
      assert.ok((await bucket.get(`${prefix}s3-small-par.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
      assert.equal((await getStatus(t.uploadUrl, idOf(url))).body.status, 'complete');
    });
  });
}
