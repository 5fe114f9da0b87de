import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk, ChunkUpload, ExpiryService } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { FragoEventLog } from '../helpers/frago-event-log';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

/**
 * Time is driven, not waited for: uploads get a long `expiration`, and a test
 * moves one upload past it by setting its stored expiry time in the past (what
 * the server compares with its clock). Nothing here sleeps.
 */
const EXPIRATION_MS = 60 * 60 * 1000;

/** Moves upload `id` past its expiry time, as if `expiration` had elapsed. */
async function expireNow(t: TestApp, id: string): Promise<void> {
  const result = await t.app
    .get(DataSource)
    .getRepository(ChunkUpload)
    .update({ id }, { expiresAt: new Date(Date.now() - 1000) });
  assert.equal(result.affected, 1, `upload ${id} exists`);
}

/** The data files of an upload left in the chunk folder. */
function chunkFiles(t: TestApp, id: string): string[] {
  return readdirSync(t.chunkDir).filter((name) => name.includes(id));
}

function storedStatus(t: TestApp, id: string): Promise<string | undefined> {
  return t.app
    .get(DataSource)
    .getRepository(ChunkUpload)
    .findOneBy({ id })
    .then((row) => row?.status);
}

/** Starts an upload of 2000 bytes and stores its first 1000. */
async function halfUpload(t: TestApp, name: string): Promise<{ id: string; data: Buffer }> {
  const data = testBytes(2000, name.length);
  const id = await startOk(t.uploadUrl, name, data.length);
  const stored = await putChunk(t.uploadUrl, id, data.subarray(0, 1000), 0, data.length);
  assert.equal(stored.status, 200, JSON.stringify(stored.body));
  return { id, data };
}

/** Resolves after the interval sweeper of `t` has finished `runs` more sweeps (counts the timer's own calls). */
function sweeperRuns(t: TestApp, runs: number): Promise<void> {
  const service = t.app.get(ExpiryService);
  const original = service.sweepExpired.bind(service);
  return new Promise((resolve, reject) => {
    let left = runs;
    service.sweepExpired = (): Promise<number> => {
      const sweep = original();
      sweep.then(() => {
        if (--left > 0) return;
        service.sweepExpired = original;
        resolve();
      }, reject);
      return sweep;
    };
  });
}

for (const kind of databaseKinds()) {
  describe(`expiry on ${kind}`, () => {
    let db: TestDatabase;
    let a: TestApp;
    let b: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      const options = { expiration: EXPIRATION_MS, cleanupInterval: 0 };
      a = await createTestApp({ db, options, providers: [FragoEventLog] });
      // A second instance on the same database and folders.
      b = await createTestApp({ db, options, providers: [FragoEventLog], dataDir: a.dataDir });
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await db?.drop();
    });

    it('answers 410 {"status":false,"error":"Upload expired"} to a chunk PUT once expired', async () => {
      const { id, data } = await halfUpload(a, 'late-chunk.bin');
      await expireNow(a, id);
      const answer = await putChunk(a.uploadUrl, id, data.subarray(1000), 1000, data.length);
      assert.equal(answer.status, 410);
      assert.equal(answer.body.status, false);
      assert.equal(answer.body.error, 'Upload expired');
      assert.equal(answer.body.message, undefined);
      const multipart = await putChunk(a.uploadUrl, id, data.subarray(1000), 1000, data.length, { multipart: true });
      assert.equal(multipart.status, 410);
      assert.deepEqual((await getStatus(a.uploadUrl, id)).body.chunks, []);
    });

    it('answers 410 with "message" to a finalize once expired', async () => {
      const { id, data } = await halfUpload(a, 'late-finalize.bin');
      assert.equal((await putChunk(a.uploadUrl, id, data.subarray(1000), 1000, data.length)).status, 200);
      await expireNow(a, id);
      const answer = await finalize(a.uploadUrl, id, { checksum: digest(data) });
      assert.equal(answer.status, 410);
      assert.equal(answer.body.status, false);
      assert.equal(answer.body.message, 'Upload expired');
    });

    it('answers GET 200 with status "in_progress" before its expiry time and "expired" after, before and after the sweep', async () => {
      const { id } = await halfUpload(a, 'late-status.bin');
      assert.equal((await getStatus(a.uploadUrl, id)).body.status, 'in_progress');
      await expireNow(a, id);
      assert.equal((await getStatus(a.uploadUrl, id)).body.status, 'expired', 'expired as soon as its time has passed');
      await a.app.get(ExpiryService).sweepExpired();
      const status = await getStatus(a.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'expired');
      assert.equal(status.body.total_size, 2000);
    });

    it('sweepExpired() leaves an upload before its expiry time alone', async () => {
      const { id } = await halfUpload(a, 'young.bin');
      await Promise.all([a.app.get(ExpiryService).sweepExpired(), b.app.get(ExpiryService).sweepExpired()]);
      assert.equal(await storedStatus(a, id), 'in_progress');
      assert.equal(chunkFiles(a, id).length, 1);
      assert.equal(a.app.get(FragoEventLog).count(a.app.get(FragoEventLog).expired, id), 0);
    });

    it('sweepExpired() marks the upload expired, removes its chunk data and emits upload.expired once across concurrent calls on two instances', async () => {
      const { id } = await halfUpload(a, 'swept.bin');
      assert.equal(chunkFiles(a, id).length, 1, 'the chunk data exists before the sweep');
      await expireNow(a, id);
      assert.equal(await storedStatus(a, id), 'in_progress', 'nothing is swept before a sweep runs');
      const sweepers = [a.app.get(ExpiryService), b.app.get(ExpiryService)];
      await Promise.all([...sweepers, ...sweepers].map((sweeper) => sweeper.sweepExpired()));
      assert.equal(await storedStatus(a, id), 'expired');
      assert.deepEqual(chunkFiles(a, id), [], 'the data file is gone from the chunk folder');
      assert.equal(await a.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id }), 0);
      const logs = [a.app.get(FragoEventLog), b.app.get(FragoEventLog)];
      const expired = logs.flatMap((log) => log.of(log.expired, id));
      assert.equal(expired.length, 1, 'upload.expired exactly once over both instances');
      assert.ok(expired[0].upload instanceof ChunkUpload);
      assert.equal(expired[0].upload.status, 'expired');

      await Promise.all(sweepers.map((sweeper) => sweeper.sweepExpired()));
      assert.equal(logs[0].count(logs[0].expired, id) + logs[1].count(logs[1].expired, id), 1, 'a later sweep does not emit again');
    });

    it('never expires a completed upload (GET 200 "complete", no event, file kept)', async () => {
      const data = testBytes(1500, 31);
      const id = await startOk(a.uploadUrl, 'kept.bin', data.length);
      assert.equal((await putChunk(a.uploadUrl, id, data, 0, data.length)).status, 200);
      assert.equal((await finalize(a.uploadUrl, id, { checksum: digest(data) })).status, 201);
      // Past its expiry time, then swept on both instances.
      await expireNow(a, id);
      await Promise.all([a.app.get(ExpiryService).sweepExpired(), b.app.get(ExpiryService).sweepExpired()]);
      const status = await getStatus(a.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'complete');
      assert.equal(await storedStatus(a, id), 'complete');
      const logs = [a.app.get(FragoEventLog), b.app.get(FragoEventLog)];
      assert.equal(logs[0].count(logs[0].expired, id) + logs[1].count(logs[1].expired, id), 0);
      assert.equal((await finalize(a.uploadUrl, id, { checksum: digest(data) })).status, 201, 'finalize stays idempotent');
    });
  });

  describe(`the interval sweeper on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { expiration: EXPIRATION_MS, cleanupInterval: 50 }, providers: [FragoEventLog] });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('expires the upload by itself: status column, chunk data removed, upload.expired once', async () => {
      const log = t.app.get(FragoEventLog);
      const { id, data } = await halfUpload(t, 'by-timer.bin');
      await sweeperRuns(t, 2);
      assert.equal(await storedStatus(t, id), 'in_progress', 'the timer leaves an upload before its expiry time alone');
      await expireNow(t, id);
      // upload.expired is emitted last, once the data is removed.
      await log.until(() => log.count(log.expired, id) > 0);
      assert.equal(await storedStatus(t, id), 'expired');
      assert.deepEqual(chunkFiles(t, id), []);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(1000), 1000, data.length)).status, 410);
      // More runs of the timer change nothing.
      await sweeperRuns(t, 3);
      assert.equal(log.count(log.expired, id), 1);
    });
  });
}
