/**
 * nestjs-frago-client against the real example app: parallel upload with odd
 * sizes, resume, checksum mismatch, cancel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChecksumMismatchError,
  FragoApi,
  UploadAbortedError,
  UploadError,
  fileSource,
  upload,
  type FileSource,
  type UploadStatusResponse,
} from 'nestjs-frago-client/node';
import { startExampleApp, type ExampleApp } from './support/example-app';
import { hexDigest, tempFiles, uniqueName, type TempFiles } from './support/files';
import { recordingFetch } from './support/recording-fetch';

const MiB = 1024 * 1024;
const ODD_SIZE = 5 * MiB + 123;
const ODD_CHUNK = 256 * 1024 + 7;
const FAST_RETRY = { baseMs: 20, maxMs: 200 };

/** Starts an upload of `source` and aborts it once `chunks` chunk PUTs were answered 200; returns the upload id. */
async function interruptedUpload(app: ExampleApp, source: FileSource, chunks: number, parallel: number): Promise<string> {
  const controller = new AbortController();
  const recorder = recordingFetch(() => {
    if (recorder.storedRanges().length >= chunks) controller.abort();
  });
  const error = await upload(source, {
    url: app.apiUrl,
    chunkSize: ODD_CHUNK,
    parallel,
    signal: controller.signal,
    fetch: recorder.fetch,
  }).then(
    () => assert.fail('the upload should have been aborted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UploadAbortedError, `expected UploadAbortedError, got ${String(error)}`);
  assert.equal(error.code, 'ABORTED');
  assert.ok(error.uploadId, 'the abort error carries the upload id');
  return error.uploadId;
}

describe('nestjs-frago-client against the example app', { timeout: 120_000 }, () => {
  let app: ExampleApp;
  let files: TempFiles;
  let api: FragoApi;

  before(async () => {
    [app, files] = await Promise.all([startExampleApp(), tempFiles()]);
    api = new FragoApi({ url: app.apiUrl });
  });
  after(async () => {
    await Promise.all([app?.stop(), files?.remove()]);
  });

  it('uploads a file of odd size in parallel odd-sized chunks and the assembled bytes equal the source', async () => {
    const name = uniqueName('odd');
    const { path, bytes } = await files.create(name, ODD_SIZE);
    const recorder = recordingFetch();
    const seen: number[] = [];
    const result = await upload(await fileSource(path), {
      url: app.apiUrl,
      chunkSize: ODD_CHUNK,
      parallel: 4,
      fetch: recorder.fetch,
      onProgress: (p) => seen.push(p.acknowledgedBytes),
    });
    assert.equal(result.size, ODD_SIZE);
    assert.equal(result.filename, name);
    assert.equal(result.algorithm, 'md5');
    assert.equal(result.checksum, hexDigest('md5', bytes));
    assert.equal(result.chunksSent, Math.ceil(ODD_SIZE / ODD_CHUNK));
    assert.equal(result.resumed, false);
    assert.deepEqual(await app.readAssembled(name), bytes);
    assert.equal(seen.at(-1), ODD_SIZE, 'progress ends at the full size');
    const puts = recorder.requests.filter((r) => r.method === 'PUT');
    assert.equal(puts.length, result.chunksSent, 'no chunk sent twice on a healthy server');
    const final = recorder.requests.at(-1)!;
    assert.equal(final.method, 'POST');
    assert.equal(final.status, 201);
  });

  it('uploads a browser Blob with sha256 and per-chunk Content-Digest', async () => {
    const name = uniqueName('blob');
    const { bytes } = await files.create(name, 3 * MiB + 1);
    const result = await upload(new Blob([new Uint8Array(bytes)]), {
      url: app.apiUrl,
      filename: name,
      chunkSize: 512 * 1024 + 3,
      parallel: 3,
      checksum: 'sha256',
      chunkDigest: true,
    });
    assert.equal(result.checksum, hexDigest('sha256', bytes));
    assert.deepEqual(await app.readAssembled(name), bytes);
  });

  it('resumes an interrupted upload and sends only the chunks the server lacks', async () => {
    const name = uniqueName('resume');
    const { path, bytes } = await files.create(name, ODD_SIZE);
    const source = await fileSource(path);
    const uploadId = await interruptedUpload(app, source, 6, 2);
    const before: UploadStatusResponse = await api.status(uploadId);
    assert.equal(before.status, 'in_progress');
    assert.ok(before.received_bytes > 0 && before.received_bytes < ODD_SIZE, `partial: ${before.received_bytes}`);

    const recorder = recordingFetch();
    const result = await upload(source, { url: app.apiUrl, chunkSize: ODD_CHUNK, parallel: 4, uploadId, fetch: recorder.fetch });
    assert.equal(result.uploadId, uploadId);
    assert.equal(result.resumed, true);
    assert.equal(result.checksum, hexDigest('md5', bytes), 'chunks already on the server were read and hashed');
    const sent = recorder.requests.filter((r) => r.method === 'PUT').map((r) => r.range!);
    for (const range of sent) {
      const overlap = before.chunks.find((c) => range.start <= c.end && c.start <= range.end);
      assert.equal(overlap, undefined, `resent bytes ${range.start}-${range.end} the server already held`);
    }
    assert.equal(result.sentBytes, ODD_SIZE - result.resumedBytes);
    assert.ok(result.resumedBytes >= before.received_bytes);
    assert.deepEqual(await app.readAssembled(name), bytes);
  });

  it('reports a checksum mismatch as a typed, final error and leaves the upload resumable', async () => {
    const name = uniqueName('mismatch');
    const { path, bytes } = await files.create(name, 2 * MiB + 5);
    const uploadId = await interruptedUpload(app, await fileSource(path), 2, 1);
    // The local file changed where the server already holds bytes: the client hashes
    // what it reads now, the server what it received, so finalize must fail.
    const changed = Buffer.from(bytes);
    changed[0] ^= 0xff;
    const error = await upload(new Blob([new Uint8Array(changed)]), { url: app.apiUrl, filename: name, chunkSize: ODD_CHUNK, uploadId }).then(
      () => assert.fail('finalize should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChecksumMismatchError, `expected ChecksumMismatchError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'CHECKSUM_MISMATCH');
    assert.equal(error.retryable, false);
    assert.equal(error.uploadId, uploadId);
    await assert.rejects(app.readAssembled(name), { code: 'ENOENT' }, 'nothing is published on a mismatch');
    assert.equal((await api.status(uploadId)).status, 'in_progress');
  });

  it('cancels through AbortSignal and deletes the upload with deleteOnCancel (status answers 404)', async () => {
    const name = uniqueName('cancel');
    const { path } = await files.create(name, 2 * MiB);
    const controller = new AbortController();
    let uploadId: string | undefined;
    const recorder = recordingFetch((request) => {
      if (request.method === 'PUT' && request.status === 200) controller.abort();
    });
    const error = await upload(await fileSource(path), {
      url: app.apiUrl,
      chunkSize: 128 * 1024,
      parallel: 2,
      signal: controller.signal,
      deleteOnCancel: true,
      fetch: recorder.fetch,
      onStart: (id) => (uploadId = id),
    }).then(
      () => assert.fail('should be aborted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UploadAbortedError);
    assert.ok(uploadId);
    assert.equal(error.uploadId, uploadId);
    assert.ok(
      recorder.requests.some((r) => r.method === 'DELETE' && r.status === 204),
      'a DELETE was sent and answered 204',
    );
    await assert.rejects(api.status(uploadId), (e: unknown) => e instanceof UploadError && e.status === 404);
  });

  it('reports a 4xx once, with the server message, without retrying', async () => {
    const { path } = await files.create(uniqueName('unknown'), 1000);
    const recorder = recordingFetch();
    const error = await upload(await fileSource(path), {
      url: app.apiUrl,
      uploadId: '3f1c6a52-5b7e-4c36-9d1e-6f3a2b9c8d01',
      fetch: recorder.fetch,
      retryDelay: FAST_RETRY,
    }).then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UploadError);
    assert.equal(error.status, 404);
    assert.equal(error.retryable, false);
    assert.match(error.message, /not found/i);
    assert.equal(recorder.requests.length, 1, 'a final 4xx is not retried');
  });
});
