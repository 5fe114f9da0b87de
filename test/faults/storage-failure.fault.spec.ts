/**
 * The storage fails under a chunk write. An injected
 * backend that breaks mid-stream answers 503 STORAGE_UNAVAILABLE telling the
 * client to retry; a full disk (a 2 MiB tmpfs, when this machine lets us
 * mount one) answers 507 STORAGE_FULL. Either way nothing stored before is
 * lost and the upload completes once the storage recovers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalDiskChunkStorage, type WriteFence } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, getStatus, putChunk, startOk, startUpload, testBytes, type JsonResponse } from '../helpers/upload-client';

const CHUNK = 128 * 1024;

/** Local disk whose every `every`-th chunk write dies half-way with an I/O error. */
class FlakyDiskStorage extends LocalDiskChunkStorage {
  writes = 0;
  failures = 0;

  constructor(
    chunkDir: string,
    assembledDir: string,
    private readonly every: number,
  ) {
    super(chunkDir, assembledDir);
  }

  override writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence): Promise<number> {
    this.writes++;
    if (this.writes % this.every !== 0) return super.writeChunk(uploadId, offset, source, signal, fence);
    this.failures++;
    // The write fails inside the storage's own pipeline, as a disk error does: the pipeline
    // rejects and destroys the body. (A Transform piped in front with .pipe() would emit its
    // error with nobody listening once the pipeline let go of it: an uncaught exception on
    // Node 26, which is the test's fault, not the server's.)
    async function* failingHalfWay(): AsyncGenerator<Buffer> {
      let passed = 0;
      for await (const data of source as AsyncIterable<Buffer>) {
        passed += data.length;
        if (passed > CHUNK / 2) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        yield data;
      }
    }
    return super.writeChunk(uploadId, offset, Readable.from(failingHalfWay(), { objectMode: false }), signal, fence);
  }
}

/** Sends `data` chunk by chunk; each refused chunk is retried (up to 5 times). Returns every refusal. */
async function sendAll(url: string, id: string, data: Buffer, chunks: Array<{ start: number; end: number }>): Promise<JsonResponse[]> {
  const refusals: JsonResponse[] = [];
  for (const { start, end } of chunks) {
    for (let attempt = 0; ; attempt++) {
      const answer = await putChunk(url, id, data.subarray(start, end), start, data.length, { multipart: start % (2 * CHUNK) === 0 });
      if (answer.status === 200) break;
      refusals.push(answer);
      assert.ok(attempt < 5, `chunk ${start} still refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  }
  return refusals;
}

describe('storage failure under a chunk write', () => {
  let db: TestDatabase;
  let t: TestApp;
  let dataDir: string;
  let storage: FlakyDiskStorage;

  before(async () => {
    db = await createTestDatabase('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'frago-flaky-'));
    storage = new FlakyDiskStorage(join(dataDir, 'chunks'), join(dataDir, 'assembled'), 3);
    t = await createTestApp({ db, dataDir, options: { storage } });
  });
  after(async () => {
    await t?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 STORAGE_UNAVAILABLE saying to retry, keeps what was stored, and completes after retries', async () => {
    const data = testBytes(12 * CHUNK + 999, 71);
    const id = await startOk(t.uploadUrl, 'flaky.bin', data.length);
    const ranges = chunkRanges(data.length, CHUNK);
    const refusals = await sendAll(t.uploadUrl, id, data, ranges.slice(0, 6));
    assert.ok(storage.failures >= 2, 'the storage failed');
    assert.equal(refusals.length, storage.failures);
    for (const refusal of refusals) {
      assert.equal(refusal.status, 503);
      assert.deepEqual(refusal.body, { status: false, code: 'STORAGE_UNAVAILABLE', error: 'Storage failed: the chunk was not stored; retry' });
      assert.equal(refusal.headers.get('retry-after'), '1');
    }
    const midway = await getStatus(t.uploadUrl, id);
    assert.equal(midway.body.received_bytes, 6 * CHUNK, 'every acknowledged chunk counts, no failed one does');

    // Parallel chunks while the storage keeps failing: retried until stored.
    const rest = ranges.slice(6);
    const parallel = await Promise.all(rest.map((range) => sendAll(t.uploadUrl, id, data, [range])));
    for (const refusal of parallel.flat()) assert.equal(refusal.status, 503);
    const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.deepEqual(readFileSync(join(t.assembledDir, 'flaky.bin')), data);
  });
});

describe('full disk (2 MiB tmpfs)', () => {
  let db: TestDatabase;
  let t: TestApp | undefined;
  let mountPoint: string;
  let mounted = false;

  before(async () => {
    db = await createTestDatabase('sqlite');
    mountPoint = mkdtempSync(join(tmpdir(), 'frago-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  after(async () => {
    await t?.close();
    if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    rmSync(mountPoint, { recursive: true, force: true });
    await db?.drop();
  });

  it('answers 507 STORAGE_FULL beyond the space, keeps earlier chunks intact, and resumes once space is freed', async (context) => {
    if (!mounted) {
      context.skip('tmpfs mount not permitted');
      return;
    }
    const ballast = join(mountPoint, 'ballast');
    writeFileSync(ballast, Buffer.alloc(1024 * 1024, 1));
    t = await createTestApp({ db, dataDir: mountPoint });
    const data = testBytes(12 * CHUNK, 72);
    const id = await startOk(t.uploadUrl, 'full.bin', data.length);
    const ranges = chunkRanges(data.length, CHUNK);
    const answers: JsonResponse[] = [];
    for (const { start, end } of ranges) answers.push(await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length));

    const stored = ranges.filter((_, i) => answers[i].status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    assert.ok(stored.length >= 2, 'some chunks fit');
    assert.ok(refused.length >= 2, 'the disk filled up');
    for (const refusal of refused) {
      assert.equal(refusal.status, 507, JSON.stringify(refusal.body));
      assert.deepEqual(refusal.body, { status: false, code: 'STORAGE_FULL', error: 'Insufficient storage: the chunk was not stored; retry later' });
      assert.ok(refusal.headers.get('retry-after'));
    }
    const status = await getStatus(t.uploadUrl, id);
    assert.equal(status.body.received_bytes, stored.length * CHUNK);
    const part = readFileSync(join(t.chunkDir, `${id}.part`));
    for (const { start, end } of stored) assert.ok(part.subarray(start, end).equals(data.subarray(start, end)), `stored chunk ${start} intact`);

    rmSync(ballast);
    const missing = ranges.filter((_, i) => answers[i].status !== 200);
    for (const { start, end } of missing) {
      const retry = await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
    }
    const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.deepEqual(readFileSync(join(t.assembledDir, 'full.bin')), data);
  });
});

/** Fills the file system of `path` to the last byte (writes until ENOSPC, in ever smaller pieces). */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (let piece = 64 * 1024; piece >= 1; piece = Math.floor(piece / 4)) {
      const bytes = Buffer.alloc(piece, 7);
      for (;;) {
        try {
          writeSync(fd, bytes);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('a full disk shared with SQLite (a 4 MiB tmpfs holding the database file and the data folders)', () => {
  let t: TestApp | undefined;
  let mountPoint: string;
  let mounted = false;

  before(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'frago-sqlite-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  after(async () => {
    // Unmounted whatever the test left behind, even when the app's close() reports a failure.
    try {
      await t?.close();
    } finally {
      if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  it('a write the database file has no room for answers 507 STORAGE_FULL with Retry-After (never 500), and everything works again once space is freed', async (context) => {
    if (!mounted) {
      context.skip('tmpfs mount not permitted');
      return;
    }
    const file = join(mountPoint, 'frago.sqlite');
    const db: TestDatabase = {
      kind: 'sqlite',
      url: `sqlite:${file}`,
      options: { type: 'better-sqlite3', database: file, enableWAL: true, timeout: 15_000 },
      drop: async () => undefined,
    };
    t = await createTestApp({ db, dataDir: join(mountPoint, 'data') });
    const id = await startOk(t.uploadUrl, 'before.bin', 4096);
    const ballast = join(mountPoint, 'ballast');
    fillUp(ballast);

    // Every start is a database write; the first one that needs the file (or its WAL) to grow has no room.
    let answer = await startUpload(t.uploadUrl, { filename: 'full-0.bin', total_size: 10 });
    for (let attempt = 1; answer.status === 201 && attempt < 500; attempt++)
      answer = await startUpload(t.uploadUrl, { filename: `full-${attempt}.bin`, total_size: 10 });
    assert.equal(answer.status, 507, JSON.stringify(answer.body));
    assert.equal(answer.body.status, false);
    assert.equal(answer.body.code, 'STORAGE_FULL');
    assert.ok(Number(answer.headers.get('retry-after')) > 0, 'Retry-After says when to retry');
    const chunk = await putChunk(t.uploadUrl, id, testBytes(4096, 5), 0, 4096);
    assert.equal(chunk.status, 507, JSON.stringify(chunk.body));
    assert.equal(chunk.body.code, 'STORAGE_FULL');

    rmSync(ballast);
    const retry = await putChunk(t.uploadUrl, id, testBytes(4096, 5), 0, 4096);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.duplicate, undefined, 'the refused chunk counted nothing');
    assert.equal((await startUpload(t.uploadUrl, { filename: 'after.bin', total_size: 10 })).status, 201);
  });
});
