/**
 * Races on one upload, in-process on every database:
 * identical twins, overlapping pairs, chunks racing a DELETE, chunks racing
 * the expiry sweeper. Never a 5xx, and afterwards GET status, the rows and
 * the files on disk tell the same story.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ExpiryService, LocalDiskChunkStorage } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { deleteUpload, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { DbProbe } from './support/db-probe';

const CHUNK = 64 * 1024;

/** Local disk whose chunk writes wait at a gate the test opens (to order a write after a sweep). */
class GatedStorage extends LocalDiskChunkStorage {
  private opened: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  /** Resolves once a write is waiting at the gate. */
  waiting: Promise<void> = Promise.resolve();
  private markWaiting: () => void = () => undefined;

  close(): void {
    this.opened = new Promise((resolve) => (this.openGate = resolve));
    this.waiting = new Promise((resolve) => (this.markWaiting = resolve));
  }

  open(): void {
    this.openGate();
  }

  override async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal): Promise<number> {
    this.markWaiting();
    await this.opened;
    return super.writeChunk(uploadId, offset, source, signal);
  }
}

/** GET status, the chunk rows and the upload's data file agree (no request of it is in flight). */
async function assertConsistent(t: TestApp, probe: DbProbe, id: string): Promise<string> {
  const status = await getStatus(t.uploadUrl, id);
  const rows = await probe.chunks(id);
  const dataFile = existsSync(join(t.chunkDir, `${id}.part`));
  assert.equal(rows.filter((row) => !row.committed).length, 0, 'no reservation outlives its request');
  if (status.status === 404) {
    assert.equal(await probe.uploadStatus(id), null);
    assert.deepEqual(rows, []);
    assert.equal(dataFile, false, 'a deleted upload leaves no data file');
    return 'deleted';
  }
  assert.equal(status.status, 200);
  const state = status.body.status as string;
  if (state === 'in_progress') {
    const counted = (status.body.chunks as Array<{ start: number; end: number; size: number }>).map((c) => [c.start, c.end, c.size]);
    assert.deepEqual(
      counted,
      rows.map((row) => [row.start, row.end, row.size]),
    );
    assert.equal(
      status.body.received_bytes,
      rows.reduce((sum, row) => sum + row.size, 0),
    );
    assert.equal(dataFile, true);
  } else {
    assert.equal(state, 'expired');
    assert.equal(await probe.uploadStatus(id), 'expired', 'the sweeper stored the expiry');
    assert.deepEqual(status.body.chunks, []);
    assert.deepEqual(rows, [], 'an expired upload keeps no chunk rows');
    assert.equal(dataFile, false, 'an expired upload keeps no chunk data');
  }
  return state;
}

function assertNo5xx(answers: Array<JsonResponse | { status: number; body: unknown }>): void {
  const bad = answers.filter((answer) => answer.status >= 500);
  assert.deepEqual(bad, [], 'no 5xx');
}

for (const kind of databaseKinds()) {
  describe(`races on one upload (${kind})`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let probe: DbProbe;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { expiration: 60_000, chunkLeaseTimeout: 60_000 } });
      probe = await DbProbe.open(db);
    });
    after(async () => {
      await probe?.close();
      await t?.close();
      await db?.drop();
    });

    it('16 identical chunks at once: one recorded, every answer 200', async () => {
      const data = testBytes(4 * CHUNK, 31);
      const id = await startOk(t.uploadUrl, 'twins.bin', data.length);
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) => putChunk(t.uploadUrl, id, data.subarray(CHUNK, 2 * CHUNK), CHUNK, data.length, { multipart: i % 2 === 0 })),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(16).fill(200),
      );
      assert.equal(answers.filter((a) => a.body.duplicate !== true).length, 1);
      assert.deepEqual(
        (await probe.chunks(id)).map((row) => row.start),
        [CHUNK],
      );
      await assertConsistent(t, probe, id);
    });

    it('overlapping pairs sent together: exactly one of each pair answers 200, the other 409', async () => {
      const pairs = 6;
      const data = testBytes(pairs * 2 * CHUNK, 32);
      const id = await startOk(t.uploadUrl, 'overlap.bin', data.length);
      const put = (start: number): Promise<JsonResponse> => putChunk(t.uploadUrl, id, data.subarray(start, start + CHUNK), start, data.length);
      const results = await Promise.all(Array.from({ length: pairs }, (_, k) => Promise.all([put(2 * k * CHUNK), put(2 * k * CHUNK + CHUNK / 2)])));
      for (const pair of results) {
        assert.deepEqual(pair.map((a) => a.status).sort(), [200, 409], JSON.stringify(pair.map((a) => a.body)));
        const loser = pair.find((a) => a.status === 409);
        assert.equal(loser?.body.code, 'CHUNK_OVERLAP');
        assert.match(String(loser?.body.error), /overlaps/);
      }
      const rows = await probe.chunks(id);
      assert.equal(rows.length, pairs);
      await assertConsistent(t, probe, id);
    });

    it('chunks racing a DELETE: no 5xx, and the upload is gone without rows or data', async () => {
      for (let round = 0; round < 4; round++) {
        const count = 16;
        const data = testBytes(count * CHUNK, 40 + round);
        const id = await startOk(t.uploadUrl, `delete-${round}.bin`, data.length);
        const chunks = Array.from({ length: count }, (_, i) =>
          putChunk(t.uploadUrl, id, data.subarray(i * CHUNK, (i + 1) * CHUNK), i * CHUNK, data.length, { multipart: i % 3 === 0 }),
        );
        await new Promise((resolve) => setTimeout(resolve, round * 5));
        const deleted = await deleteUpload(t.uploadUrl, id);
        const answers = await Promise.all(chunks);
        assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
        assertNo5xx(answers);
        for (const answer of answers) assert.ok([200, 404].includes(answer.status), `chunk answered ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.equal(await assertConsistent(t, probe, id), 'deleted');
      }
    });

    it('a chunk whose write starts after the sweeper removed the data answers 410, like GET says, not 404', async () => {
      const storage = new GatedStorage(join(t.dataDir, 'gated-chunks'), join(t.dataDir, 'gated-assembled'));
      const gated = await createTestApp({ db, options: { expiration: 400, chunkLeaseTimeout: 60_000, storage } });
      try {
        const data = testBytes(2 * CHUNK, 55);
        const id = await startOk(gated.uploadUrl, 'late.bin', data.length);
        storage.close();
        const late = putChunk(gated.uploadUrl, id, data.subarray(0, CHUNK), 0, data.length);
        await storage.waiting; // reserved while the upload was live; the write has not opened the data yet
        await new Promise((resolve) => setTimeout(resolve, 450));
        assert.equal(await gated.app.get(ExpiryService).sweepExpired(), 1);
        storage.open();
        const answer = await late;
        assert.equal(answer.status, 410, JSON.stringify(answer.body));
        assert.equal(answer.body.code, 'UPLOAD_EXPIRED');
        assert.equal((await getStatus(gated.uploadUrl, id)).body.status, 'expired');
        assert.deepEqual(await probe.chunks(id), []);
      } finally {
        storage.open();
        await gated.close();
      }
    });

    it('chunks racing the expiry sweeper: no 5xx, answers 200 until 410, and the expired upload keeps nothing', async () => {
      const expiring = await createTestApp({ db, options: { expiration: 300, chunkLeaseTimeout: 60_000 } });
      try {
        const sweeper = expiring.app.get(ExpiryService);
        const count = 400;
        const data = testBytes(count * CHUNK, 50);
        const id = await startOk(expiring.uploadUrl, 'expiring.bin', data.length);
        let sweeping = true;
        const sweeps = (async () => {
          let expired = 0;
          while (sweeping) {
            expired += await sweeper.sweepExpired();
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          return expired;
        })();
        const answers: JsonResponse[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < count && answers.filter((a) => a.status === 410).length < 8) {
              const i = next++;
              answers.push(await putChunk(expiring.uploadUrl, id, data.subarray(i * CHUNK, (i + 1) * CHUNK), i * CHUNK, data.length));
              await new Promise((resolve) => setTimeout(resolve, 15));
            }
          }),
        );
        sweeping = false;
        assert.equal(await sweeps, 1, 'expired once');
        assertNo5xx(answers);
        for (const answer of answers) assert.ok([200, 410].includes(answer.status), `chunk answered ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.ok(
          answers.some((a) => a.status === 410),
          'the upload expired while chunks arrived',
        );
        assert.equal(await assertConsistent(expiring, probe, id), 'expired');
      } finally {
        await expiring.close();
      }
    });
  });
}
