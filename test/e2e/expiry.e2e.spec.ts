import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk, ChunkUpload, ExpiryService, FragoEvents, UploadExpiredEvent } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

const EXPIRATION_MS = 600;
const WAIT_LIMIT_MS = 10_000;

/** Records `upload.expired` events of one app instance. */
@Injectable()
class ExpiredRecorder {
  readonly events: UploadExpiredEvent[] = [];

  @OnEvent(FragoEvents.UploadExpired)
  onExpired(event: UploadExpiredEvent): void {
    this.events.push(event);
  }

  count(id: string): number {
    return this.events.filter((event) => event.upload.id === id).length;
  }
}

/** Polls `check` until it returns true; fails after {@link WAIT_LIMIT_MS}. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** Waits until the server itself reports the upload as expired (GET 200, status "expired"). */
function untilExpired(t: TestApp, id: string): Promise<void> {
  return waitUntil(`upload ${id} reports expired`, async () => (await getStatus(t.uploadUrl, id)).body.status === 'expired');
}

/** The data files of an upload left in the chunk folder. */
function chunkFiles(t: TestApp, id: string): string[] {
  return readdirSync(t.chunkDir).filter((name) => name.includes(id));
}

function storedStatus(t: TestApp, id: string): Promise<string | undefined> {
  return t.app.get(DataSource).getRepository(ChunkUpload).findOneBy({ id }).then((row) => row?.status);
}

const ATTEMPTS = 5;

/**
 * Runs `prepare` (work that must finish before the upload expires) until it
 * succeeds: on a loaded machine it may take longer than the short expiration,
 * which shows as 410; then it starts over with a fresh upload.
 */
async function beforeExpiry<T>(what: string, prepare: () => Promise<T | 'expired'>): Promise<T> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const result = await prepare();
    if (result !== 'expired') return result;
  }
  return assert.fail(`could not ${what} within ${EXPIRATION_MS} ms in ${ATTEMPTS} attempts`);
}

/** Starts an upload of 2000 bytes and stores its first 1000 before it expires. */
function halfUpload(t: TestApp, name: string): Promise<{ id: string; data: Buffer }> {
  const data = testBytes(2000, name.length);
  return beforeExpiry('store a first chunk', async () => {
    const id = await startOk(t.uploadUrl, name, data.length);
    const stored = await putChunk(t.uploadUrl, id, data.subarray(0, 1000), 0, data.length);
    if (stored.status === 410) return 'expired';
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    return { id, data };
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
      a = await createTestApp({ db, options, providers: [ExpiredRecorder] });
      // A second instance on the same database and folders.
      b = await createTestApp({ db, options, providers: [ExpiredRecorder], dataDir: a.dataDir });
      await startOk(a.uploadUrl, 'warm-up.bin', 1); // first requests are slower; keep them out of the timed tests
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await db?.drop();
    });

    it('answers 410 {"status":false,"error":"Upload expired"} to a chunk PUT once expired', async () => {
      const { id, data } = await halfUpload(a, 'late-chunk.bin');
      await untilExpired(a, id);
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
      await putChunk(a.uploadUrl, id, data.subarray(1000), 1000, data.length);
      await untilExpired(a, id);
      const answer = await finalize(a.uploadUrl, id, { checksum: digest(data) });
      assert.equal(answer.status, 410);
      assert.equal(answer.body.status, false);
      assert.equal(answer.body.message, 'Upload expired');
    });

    it('answers GET 200 with status "expired" before and after the sweep', async () => {
      const { id } = await halfUpload(a, 'late-status.bin');
      await untilExpired(a, id);
      await a.app.get(ExpiryService).sweepExpired();
      const status = await getStatus(a.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'expired');
      assert.equal(status.body.total_size, 2000);
    });

    it('sweepExpired() marks the upload expired, removes its chunk data and emits upload.expired once across concurrent calls on two instances', async () => {
      const { id } = await halfUpload(a, 'swept.bin');
      assert.equal(chunkFiles(a, id).length, 1, 'the chunk data exists before the sweep');
      await untilExpired(a, id);
      assert.equal(await storedStatus(a, id), 'in_progress', 'nothing is swept before a sweep runs');
      const sweepers = [a.app.get(ExpiryService), b.app.get(ExpiryService)];
      await Promise.all([...sweepers, ...sweepers].map((sweeper) => sweeper.sweepExpired()));
      assert.equal(await storedStatus(a, id), 'expired');
      assert.deepEqual(chunkFiles(a, id), [], 'the data file is gone from the chunk folder');
      assert.equal(await a.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id }), 0);
      const recorders = [a.app.get(ExpiredRecorder), b.app.get(ExpiredRecorder)];
      assert.equal(recorders[0].count(id) + recorders[1].count(id), 1, 'upload.expired exactly once over both instances');
      const event = [...recorders[0].events, ...recorders[1].events].find((e) => e.upload.id === id);
      assert.ok(event?.upload instanceof ChunkUpload);
      assert.equal(event.upload.status, 'expired');

      await Promise.all(sweepers.map((sweeper) => sweeper.sweepExpired()));
      assert.equal(recorders[0].count(id) + recorders[1].count(id), 1, 'a later sweep does not emit again');
    });

    it('never expires a completed upload (GET 200 "complete", no event, file kept)', async () => {
      const data = testBytes(1500, 31);
      const id = await beforeExpiry('complete an upload', async () => {
        const started = await startOk(a.uploadUrl, 'kept.bin', data.length);
        const stored = await putChunk(a.uploadUrl, started, data, 0, data.length);
        const done = stored.status === 200 ? await finalize(a.uploadUrl, started, { checksum: digest(data) }) : stored;
        if (done.status === 410) return 'expired';
        assert.equal(done.status, 201, JSON.stringify(done.body));
        return started;
      });
      // Well past its expiry time, then swept on both instances.
      await waitUntil('the expiry time has passed', async () => Date.now() > (await getExpiresAt(a, id)) + 50);
      await Promise.all([a.app.get(ExpiryService).sweepExpired(), b.app.get(ExpiryService).sweepExpired()]);
      const status = await getStatus(a.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'complete');
      assert.equal(await storedStatus(a, id), 'complete');
      assert.equal(a.app.get(ExpiredRecorder).count(id) + b.app.get(ExpiredRecorder).count(id), 0);
      assert.equal((await finalize(a.uploadUrl, id, { checksum: digest(data) })).status, 201, 'finalize stays idempotent');
    });
  });

  describe(`the interval sweeper on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { expiration: EXPIRATION_MS, cleanupInterval: 100 }, providers: [ExpiredRecorder] });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('expires the upload by itself: status column, chunk data removed, upload.expired once', async () => {
      // The chunk was stored (200), so its data file existed; the timer may already be removing it.
      const { id, data } = await halfUpload(t, 'by-timer.bin');
      // upload.expired is emitted last, once the data is removed.
      await waitUntil('the sweeper emitted upload.expired', async () => t.app.get(ExpiredRecorder).count(id) > 0);
      assert.equal(await storedStatus(t, id), 'expired');
      assert.deepEqual(chunkFiles(t, id), []);
      assert.equal(t.app.get(ExpiredRecorder).count(id), 1);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(1000), 1000, data.length)).status, 410);
      // A few more ticks of the timer change nothing.
      await sleep(350);
      assert.equal(t.app.get(ExpiredRecorder).count(id), 1);
    });
  });
}

async function getExpiresAt(t: TestApp, id: string): Promise<number> {
  const status = await getStatus(t.uploadUrl, id);
  return Date.parse(status.body.expires_at as string);
}
