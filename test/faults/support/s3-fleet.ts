/**
 * What the S3 fault specs share: app processes of the example app on the S3 backend
 * (a real Ceph RGW), each with a data and spool folder of its own, one PostgreSQL
 * database, one bucket; and the checks every one of them makes afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-databases';
import { after, before, describe } from 'node:test';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../../helpers/test-s3';
import type { JsonResponse } from '../../helpers/upload-client';
import { AppProcesses, HOST_APP_MAIN, type AppProcess } from '../../helpers/app-process';
import { DbProbe } from './db-probe';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export const MiB = 1024 * 1024;
/** The key prefix every S3 fault spec configures. */
export const PREFIX = 'uploads/';

/** Chunk ranges of the given sizes, in order. */
export function layout(sizes: number[]): { start: number; end: number }[] {
  let offset = 0;
  return sizes.map((size) => {
    const range = { start: offset, end: offset + size };
    offset += size;
    return range;
  });
}

/** Repeats `attempt` while it answers a retryable status (409 busy/finalizing, 503), up to `limit` ms. */
export async function untilSettled(attempt: () => Promise<JsonResponse>, limit = 180_000): Promise<JsonResponse[]> {
  const answers: JsonResponse[] = [];
  const deadline = Date.now() + limit;
  for (;;) {
    const answer = await attempt();
    answers.push(answer);
    if ((answer.status !== 409 && answer.status !== 503) || Date.now() > deadline) return answers;
    await sleep(100);
  }
}

/** The last answer of `untilSettled`, asserted to have the given status. */
export function assertSettledAs(answers: JsonResponse[], status: number): void {
  const last = answers[answers.length - 1];
  assert.equal(last.status, status, JSON.stringify(last.body));
}

/** Published objects (everything under the prefix outside frago's staging area). */
export async function publishedKeys(bucket: TestBucket): Promise<string[]> {
  return (await bucket.keys(PREFIX)).filter((key) => !key.startsWith(`${PREFIX}.frago/`)).sort();
}

/** Neither a staging object of the upload nor any multipart upload is left in the bucket. */
export async function assertNoLeftovers(bucket: TestBucket, id: string): Promise<void> {
  assert.deepEqual(await bucket.keys(`${PREFIX}.frago/uploads/${id}/`), [], 'no staging object left');
  assert.deepEqual(await bucket.multipartUploads(PREFIX), [], 'no multipart upload left');
}

/** The example app's environment for the S3 backend on `endpoint` with the test's credentials. */
export function s3AppEnv(bucket: TestBucket, endpoint: string, region: string): Record<string, string> {
  return {
    FRAGO_STORAGE: 's3',
    FRAGO_S3_BUCKET: bucket.name,
    FRAGO_S3_PREFIX: PREFIX,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY ?? '',
    AWS_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_KEY ?? '',
  };
}

/** Instances of the example app sharing one PostgreSQL database and one bucket; `open` in `before`, `close` in `after`. */
export class S3Fleet {
  readonly apps = new AppProcesses();
  private readonly folders: string[] = [];
  private env: Record<string, string> = {};
  db!: TestDatabase;
  probe!: DbProbe;
  bucket!: TestBucket;

  async open(s3: S3ClientConfig, extraEnv: Record<string, string>): Promise<void> {
    this.db = await createTestDatabase('postgres');
    this.bucket = await createTestBucket(s3);
    this.env = { DATABASE_URL: this.db.url, ...s3AppEnv(this.bucket, s3.endpoint as string, s3.region as string), ...extraEnv };
    this.probe = await DbProbe.open(this.db);
  }

  /** One more instance with a data folder (and spool folder) of its own. */
  async startInstance(): Promise<AppProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), 'frago-s3-instance-'));
    this.folders.push(dataDir);
    return this.apps.start({ main: HOST_APP_MAIN, env: { ...this.env, FRAGO_DATA_DIR: dataDir, TMPDIR: dataDir } });
  }

  /** How many `upload.completed` events the instances recorded for the upload. */
  async completedEvents(id: string): Promise<number> {
    const rows = await this.probe.query<{ upload_id: string }>('SELECT upload_id FROM frago_event_log WHERE upload_id = ?', [id]);
    return rows.length;
  }

  async close(): Promise<void> {
    await this.apps.stopAll();
    await this.probe?.close();
    await this.db?.drop();
    await this.bucket?.drop();
    for (const folder of this.folders) rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * The S3 fault suites' frame: skipped (and said so) without an S3 engine or
 * PostgreSQL; else a fleet of three instances on separate data folders, one
 * PostgreSQL database and one bucket, opened before the tests and closed after.
 * `tests` gets the fleet and the three instances (read them inside a test).
 */
export function describeFleet(title: string, tests: (fleet: S3Fleet, instances: () => AppProcess[]) => void): void {
  const s3 = testS3Config();
  if (!s3) {
    reportS3Skipped('S3 fault tests');
    return;
  }
  if (!process.env.TEST_POSTGRES_URL) {
    reportS3Skipped('S3 fault tests need PostgreSQL too: set TEST_POSTGRES_URL');
    return;
  }
  describe(`S3: three instances on separate data folders, one PostgreSQL database, one bucket: ${title}`, () => {
    const fleet = new S3Fleet();
    let instances: AppProcess[] = [];
    before(async () => {
      await fleet.open(s3, { DATABASE_POOL_SIZE: '6', FRAGO_CHUNK_LEASE_MS: '2000', FRAGO_MAX_CHUNK_SIZE: String(64 * MiB) });
      instances = await Promise.all([0, 1, 2].map(() => fleet.startInstance()));
    });
    after(() => fleet.close());
    tests(fleet, () => instances);
  });
}
