/**
 * S3 on a real Ceph RGW and PostgreSQL: three app processes on separate data
 * folders share only the database and one bucket; chunks below and above
 * 5 MiB are sprayed round-robin and 32 finalizes hit all three: one object,
 * byte-exact, `upload.completed` once, nothing left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { digest, finalize, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { AppProcesses, HOST_APP_MAIN, type AppProcess } from '../helpers/app-process';
import { DbProbe } from './support/db-probe';

const MiB = 1024 * 1024;
const FINALIZERS = 32;
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

    it('chunks below and above 5 MiB sprayed round-robin, 32 finalizes across the three: one object, byte-exact, upload.completed once', async () => {
      const data = testBytes(25 * MiB + 321, 201);
      const ranges = layout([6 * MiB, 6 * MiB, 1 * MiB, 1 * MiB, 5 * MiB, 2 * MiB, 4 * MiB + 321]);
      const id = await startOk(instances[0].uploadUrl, 'sprayed.bin', data.length);
      const answers = await Promise.all(ranges.reverse().map(({ start, end }, i) => putChunk(instances[i % 3].uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: i % 2 === 0 })));
      for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));

      const finals = await Promise.all(
        Array.from({ length: FINALIZERS }, (_, n) => untilSettled(() => finalize(instances[n % 3].uploadUrl, id, { checksum: digest(data) }))),
      );
      for (const seen of finals) assert.equal(seen[seen.length - 1].status, 201, JSON.stringify(seen[seen.length - 1].body));
      assert.deepEqual(await publishedKeys(bucket), [`${PREFIX}sprayed.bin`]);
      assert.ok((await bucket.get(`${PREFIX}sprayed.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
      assert.equal(await completedEvents(id), 1);
      await assertNoLeftovers(bucket, id);
    });

  });
}
