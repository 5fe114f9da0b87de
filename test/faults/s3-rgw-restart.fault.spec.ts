/**
 * S3 on a real Ceph RGW: a second RGW of the cluster, which this test owns,
 * is killed under an upload and restarted. Clients get 503 with Retry-After,
 * nothing acknowledged is lost, and the upload completes once it is back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';
import { digest, finalize, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { AppProcesses, HOST_APP_MAIN, unusedPort, type AppProcess } from '../helpers/app-process';

const MiB = 1024 * 1024;
const PREFIX = 'uploads/';
const s3 = testS3Config();

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

async function assertNoLeftovers(bucket: TestBucket, id: string): Promise<void> {
  assert.deepEqual(await bucket.keys(`${PREFIX}.frago/uploads/${id}/`), [], 'no staging object left');
  assert.deepEqual(await bucket.multipartUploads(PREFIX), [], 'no multipart upload left');
}

if (!s3) {
  reportS3Skipped('S3 RGW restart test');
} else if (!process.env.TEST_POSTGRES_URL) {
  reportS3Skipped('S3 RGW restart test needs PostgreSQL too: set TEST_POSTGRES_URL');
} else {
  describe('S3: the RGW stops and restarts under an upload', () => {
    const cephConf = process.env.TEST_CEPH_CONF;
    if (!cephConf) {
      reportS3Skipped('RGW restart: set TEST_CEPH_CONF to the ceph.conf of scripts/ceph.sh to run a second RGW');
      return;
    }
    const apps = new AppProcesses();
    let rgw: ChildProcess | null = null;
    let rgwPort: number;
    let db: TestDatabase;
    let bucket: TestBucket;
    let app: AppProcess;
    let folder: string;

    /** A second RGW of the same cluster on its own port, which this test may stop. */
    async function startRgw(): Promise<void> {
      rgw = spawn('radosgw', ['-f', '-n', 'client.rgw.frago-fault', '--ms_mon_client_mode=crc', `--rgw_frontends=beast endpoint=127.0.0.1:${rgwPort}`], {
        env: { ...process.env, CEPH_CONF: cephConf },
        stdio: 'ignore',
      });
      for (let i = 0; i < 600; i++) {
        const up = await fetch(`http://127.0.0.1:${rgwPort}/`).then(() => true, () => false);
        if (up) return;
        await sleep(100);
      }
      throw new Error('the second RGW did not come up');
    }

    async function stopRgw(): Promise<void> {
      if (!rgw || rgw.exitCode !== null || rgw.signalCode !== null) return;
      const exited = once(rgw, 'exit');
      rgw.kill('SIGKILL');
      await exited;
    }

    before(async () => {
      rgwPort = await unusedPort();
      await startRgw();
      db = await createTestDatabase('postgres');
      bucket = await createTestBucket(s3);
      folder = mkdtempSync(join(tmpdir(), 'frago-s3-rgw-'));
      app = await apps.start({
        main: HOST_APP_MAIN,
        env: {
          DATABASE_URL: db.url,
          DATABASE_POOL_SIZE: '4',
          FRAGO_DATA_DIR: folder,
          TMPDIR: folder,
          FRAGO_STORAGE: 's3',
          FRAGO_S3_BUCKET: bucket.name,
          FRAGO_S3_PREFIX: PREFIX,
          AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${rgwPort}`,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY ?? '',
          AWS_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_KEY ?? '',
        },
      });
    });
    after(async () => {
      await apps.stopAll();
      await stopRgw();
      await db?.drop();
      await bucket?.drop();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it('answers 503 with Retry-After while the RGW is down, loses no acknowledged chunk, and completes once it is back', async () => {
      const data = testBytes(15 * MiB, 204);
      const id = await startOk(app.uploadUrl, 'outage.bin', data.length);
      assert.equal((await putChunk(app.uploadUrl, id, data.subarray(0, 6 * MiB), 0, data.length)).status, 200);
      await stopRgw();
      const refused = await putChunk(app.uploadUrl, id, data.subarray(6 * MiB, 12 * MiB), 6 * MiB, data.length);
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After tells the client when to come back');
      assert.equal(refused.body.status, false);
      await startRgw();
      const retried = await untilSettled(() => putChunk(app.uploadUrl, id, data.subarray(6 * MiB, 12 * MiB), 6 * MiB, data.length));
      assert.equal(retried[retried.length - 1].status, 200);
      assert.equal((await putChunk(app.uploadUrl, id, data.subarray(12 * MiB), 12 * MiB, data.length)).status, 200);
      const done = await untilSettled(() => finalize(app.uploadUrl, id, { checksum: digest(data) }));
      assert.equal(done[done.length - 1].status, 201, JSON.stringify(done[done.length - 1].body));
      assert.ok((await bucket.get(`${PREFIX}outage.bin`))?.equals(data), 'every acknowledged byte is in the object');
      await assertNoLeftovers(bucket, id);
    });
  });
}
