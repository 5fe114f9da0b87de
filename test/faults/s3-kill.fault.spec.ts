/**
 * S3 on a real Ceph RGW and PostgreSQL, instances on separate data folders:
 * an instance killed with SIGKILL mid-chunk leaves nothing counted, one killed
 * mid-composition leaves nothing behind once another instance finalizes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { digest, finalize, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { AppProcesses, HOST_APP_MAIN, type AppProcess } from '../helpers/app-process';
import { DbProbe } from './support/db-probe';
import { openChunk } from './support/open-chunk';

const MiB = 1024 * 1024;
const PREFIX = 'uploads/';
const s3 = testS3Config();

/** Chunk ranges of the given sizes, in order. */
function layout(sizes: number[]): { start: number; end: number }[] {
  let offset = 0;
  return sizes.map((size) => {
    const range = { start: offset, end: offset + size };
    offset += size;
    return range;
  });
}

/** Repeats `attempt` while it answers a retryable status (409 busy/finalizing, 503), up to `limit` ms. */
async function untilSettled(attempt: () => Promise<JsonResponse>, limit = 180_000): Promise<JsonResponse[]> {
  const answers: JsonResponse[] = [];
  const deadline = Date.now() + limit;
  for (;;) {
    const answer = await attempt();
    answers.push(answer);
    if ((answer.status !== 409 && answer.status !== 503) || Date.now() > deadline) return answers;
    await sleep(100);
  }
}

/** Published objects (everything under the prefix outside frago's staging area). */
async function publishedKeys(bucket: TestBucket): Promise<string[]> {
  return (await bucket.keys(PREFIX)).filter((key) => !key.startsWith(`${PREFIX}.frago/`)).sort();
}

async function assertNoLeftovers(bucket: TestBucket, id: string): Promise<void> {
  assert.deepEqual(await bucket.keys(`${PREFIX}.frago/uploads/${id}/`), [], 'no staging object left');
  assert.deepEqual(await bucket.multipartUploads(PREFIX), [], 'no multipart upload left');
}

if (!s3) {
  reportS3Skipped('S3 fault tests');
} else if (!process.env.TEST_POSTGRES_URL) {
  reportS3Skipped('S3 fault tests need PostgreSQL too: set TEST_POSTGRES_URL');
} else {
  describe('S3: three instances on separate data folders, one PostgreSQL database, one bucket', () => {
    const apps = new AppProcesses();
    const folders: string[] = [];
    let db: TestDatabase;
    let probe: DbProbe;
    let bucket: TestBucket;
    let instances: AppProcess[];
    let env: Record<string, string>;

    before(async () => {
      db = await createTestDatabase('postgres');
      bucket = await createTestBucket(s3);
      env = {
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: '6',
        FRAGO_STORAGE: 's3',
        FRAGO_S3_BUCKET: bucket.name,
        FRAGO_S3_PREFIX: PREFIX,
        AWS_ENDPOINT_URL_S3: s3.endpoint as string,
        AWS_REGION: s3.region as string,
        AWS_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY ?? '',
        AWS_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_KEY ?? '',
        FRAGO_CHUNK_LEASE_MS: '2000',
        FRAGO_MAX_CHUNK_SIZE: String(64 * MiB),
      };
      instances = await Promise.all([0, 1, 2].map(() => startInstance()));
      probe = await DbProbe.open(db);
    });
    after(async () => {
      await apps.stopAll();
      await probe?.close();
      await db?.drop();
      await bucket?.drop();
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    });

    /** One more instance with a data folder (and spool folder) of its own. */
    async function startInstance(): Promise<AppProcess> {
      const dataDir = mkdtempSync(join(tmpdir(), 'frago-s3-instance-'));
      folders.push(dataDir);
      return apps.start({ main: HOST_APP_MAIN, env: { ...env, FRAGO_DATA_DIR: dataDir, TMPDIR: dataDir } });
    }

    async function completedEvents(id: string): Promise<number> {
      const rows = await probe.query<{ upload_id: string }>('SELECT upload_id FROM frago_event_log WHERE upload_id = ?', [id]);
      return rows.length;
    }

    it('kill -9 of the instance receiving a chunk: nothing of it counts; the chunk and the finalize succeed on another instance', async () => {
      const victim = await startInstance();
      const data = testBytes(12 * MiB, 202);
      const id = await startOk(instances[0].uploadUrl, 'cut.bin', data.length);
      assert.equal((await putChunk(instances[1].uploadUrl, id, data.subarray(0, 6 * MiB), 0, data.length)).status, 200);
      const open = openChunk(victim.uploadUrl, id, data.subarray(6 * MiB), 6 * MiB, data.length);
      await open.send(3 * MiB);
      await victim.kill();
      await open.outcome;
      const status = await getStatus(instances[2].uploadUrl, id);
      assert.equal(status.body.received_bytes, 6 * MiB, 'the cut chunk is not counted');
      const resent = await untilSettled(() => putChunk(instances[2].uploadUrl, id, data.subarray(6 * MiB), 6 * MiB, data.length));
      assert.equal(resent[resent.length - 1].status, 200, JSON.stringify(resent[resent.length - 1].body));
      const done = await untilSettled(() => finalize(instances[0].uploadUrl, id, { checksum: digest(data) }));
      assert.equal(done[done.length - 1].status, 201, JSON.stringify(done[done.length - 1].body));
      assert.ok((await bucket.get(`${PREFIX}cut.bin`))?.equals(data));
      await assertNoLeftovers(bucket, id);
    });

    it('kill -9 of the finalizing instance mid-composition: another instance finalizes, one object, nothing left behind', async () => {
      const victim = await startInstance();
      const data = testBytes(48 * MiB, 203);
      const sizes = Array.from({ length: 48 }, () => MiB); // small chunks: the composition streams them, which takes a while
      const id = await startOk(instances[0].uploadUrl, 'killed.bin', data.length);
      for (const [i, { start, end }] of layout(sizes).entries()) {
        assert.equal((await putChunk(instances[i % 3].uploadUrl, id, data.subarray(start, end), start, data.length)).status, 200);
      }
      const finalizing = finalize(victim.uploadUrl, id, { checksum: digest(data) }).catch(() => null);
      // Killed once the composition has begun: its multipart upload exists in the bucket.
      while ((await bucket.multipartUploads(PREFIX)).length === 0) {
        assert.notEqual(await probe.uploadStatus(id), 'complete', 'finalize ended before it could be interrupted');
        await sleep(20);
      }
      await victim.kill();
      await finalizing;
      assert.equal(await completedEvents(id), 0);
      const done = await untilSettled(() => finalize(instances[1].uploadUrl, id, { checksum: digest(data) }));
      assert.equal(done[done.length - 1].status, 201, JSON.stringify(done[done.length - 1].body));
      assert.deepEqual((await publishedKeys(bucket)).filter((key) => key.includes('killed')), [`${PREFIX}killed.bin`]);
      assert.ok((await bucket.get(`${PREFIX}killed.bin`))?.equals(data));
      assert.equal(await completedEvents(id), 1);
      await assertNoLeftovers(bucket, id);
    });
  });
}
