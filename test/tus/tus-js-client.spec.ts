import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload, type UploadOptions } from 'tus-js-client';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { getStatus, testBytes } from '../helpers/upload-client';
import { FragoEventLog } from '../helpers/frago-event-log';

/** Runs a tus-js-client upload to the end; resolves with its URL, rejects with the client's error. */
function tusUpload(data: Buffer, options: UploadOptions): { done: Promise<string>; upload: Upload } {
  let upload: Upload | null = null;
  const done = new Promise<string>((resolve, reject) => {
    upload = new Upload(data, {
      retryDelays: [],
      ...options,
      onSuccess: () => resolve(upload?.url ?? ''),
      onError: (error) => reject(error),
    });
    upload.start();
  });
  return { done, upload: upload as unknown as Upload };
}

for (const kind of databaseKinds()) {
  describe(`tus-js-client against the tus endpoint on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let dataDir: string;
    let events: FragoEventLog;

    const boot = async (): Promise<void> => {
      t = await createTestApp({ db, dataDir, providers: [FragoEventLog], extras: { tusPath: 'files' } });
      events = t.app.get(FragoEventLog);
    };
    const endpoint = (): string => `${t.baseUrl}/api/files/`;
    const onDisk = (name: string): Buffer => readFileSync(join(t.assembledDir, name));

    before(async () => {
      db = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'frago-tusjs-'));
      await boot();
    });
    after(async () => {
      await t?.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('uploads sequentially in chunks; the file on disk equals the source and GET /upload/<uuid>/ reports it complete', async () => {
      const data = testBytes(700_001, 31);
      const url = await tusUpload(data, { endpoint: endpoint(), chunkSize: 64 * 1024, metadata: { filename: 'tusjs-seq.bin' } }).done;
      assert.deepEqual(onDisk('tusjs-seq.bin'), data);
      const id = url.split('/').pop() as string;
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.body.status, 'complete');
      assert.equal(status.body.total_size, data.length);
      assert.equal(events.count(events.completed, id), 1);
      assert.equal(events.count(events.chunks, id), Math.ceil(data.length / (64 * 1024)), 'chunk.received per PATCH');
    });

    it('uploads with parallelUploads: 4 (concatenation); the final file equals the source and completes once', async () => {
      const data = testBytes(1_000_003, 32);
      const before = events.completed.length;
      const url = await tusUpload(data, { endpoint: endpoint(), parallelUploads: 4, chunkSize: 100 * 1024, metadata: { filename: 'tusjs-parallel.bin' } }).done;
      assert.deepEqual(onDisk('tusjs-parallel.bin'), data);
      const id = url.split('/').pop() as string;
      assert.equal(events.count(events.completed, id), 1);
      assert.equal(events.completed.length - before, 1, 'the partial uploads are not published');
    });

    it('uploadDataDuringCreation sends the first chunk with the POST', async () => {
      const data = testBytes(200_000, 33);
      const url = await tusUpload(data, {
        endpoint: endpoint(),
        uploadDataDuringCreation: true,
        chunkSize: 150_000,
        metadata: { filename: 'tusjs-during.bin' },
      }).done;
      assert.deepEqual(onDisk('tusjs-during.bin'), data);
      const id = url.split('/').pop() as string;
      const first = events.chunks.find((event) => event.upload.id === id);
      assert.equal(first?.start, 0);
      assert.equal(first?.size, 150_000, 'the creation request carried the first chunk');
    });

    it('resumes after an abort from the offset the server reports', async () => {
      const data = testBytes(600_000, 34);
      let url = '';
      const first = new Promise<void>((resolve, reject) => {
        const upload: Upload = new Upload(data, {
          endpoint: endpoint(),
          chunkSize: 100_000,
          retryDelays: [],
          metadata: { filename: 'tusjs-resume.bin' },
          onChunkComplete: (_size, accepted) => {
            if (accepted >= 200_000) {
              url = upload.url ?? '';
              void upload.abort().then(resolve, reject);
            }
          },
          onError: reject,
        });
        upload.start();
      });
      await first;
      const head = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
      assert.equal(head.headers.get('upload-offset'), '200000');
      await tusUpload(data, { uploadUrl: url, chunkSize: 100_000 }).done;
      assert.deepEqual(onDisk('tusjs-resume.bin'), data);
    });

    it('resumes after the app restarts (same database and folder)', async () => {
      const data = testBytes(500_000, 35);
      let path = '';
      await new Promise<void>((resolve, reject) => {
        const upload: Upload = new Upload(data, {
          endpoint: endpoint(),
          chunkSize: 100_000,
          retryDelays: [],
          metadata: { filename: 'tusjs-restart.bin' },
          onChunkComplete: (_size, accepted) => {
            if (accepted >= 300_000) {
              path = new URL(upload.url ?? '').pathname;
              void upload.abort().then(resolve, reject);
            }
          },
          onError: reject,
        });
        upload.start();
      });
      await t.close();
      await boot();
      await tusUpload(data, { uploadUrl: `${t.baseUrl}${path}`, chunkSize: 100_000 }).done;
      assert.deepEqual(onDisk('tusjs-restart.bin'), data);
    });

    it('reports a 460 when the chunk checksum does not match, and nothing is stored', async () => {
      const data = testBytes(50_000, 36);
      let url = '';
      const attempt = tusUpload(data, {
        endpoint: endpoint(),
        headers: { 'Upload-Checksum': 'sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
        metadata: { filename: 'tusjs-bad.bin' },
        onUploadUrlAvailable: () => undefined,
        onAfterResponse: (request) => {
          url = request.getURL();
        },
      });
      const error = (await attempt.done.then(
        () => null,
        (e: unknown) => e,
      )) as { originalResponse?: { getStatus(): number } } | null;
      assert.ok(error, 'the upload fails');
      assert.equal(error.originalResponse?.getStatus(), 460);
      const head = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
      assert.equal(head.headers.get('upload-offset'), '0');
    });
  });
}
