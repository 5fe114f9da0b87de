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
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { AppProcesses, HOST_APP_MAIN, unusedPort, type AppProcess } from '../helpers/app-process';
import { assertNoLeftovers, assertSettledAs, MiB, PREFIX, s3AppEnv, untilSettled } from './support/s3-fleet';

const s3 = testS3Config();

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
        const up = await fetch(`http://127.0.0.1:${rgwPort}/`).then(
          () => true,
          () => false,
        );
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
          ...s3AppEnv(bucket, `http://127.0.0.1:${rgwPort}`, 'us-east-1'),
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
      assertSettledAs(retried, 200);
      assert.equal((await putChunk(app.uploadUrl, id, data.subarray(12 * MiB), 12 * MiB, data.length)).status, 200);
      const done = await untilSettled(() => finalize(app.uploadUrl, id, { checksum: digest(data) }));
      assertSettledAs(done, 201);
      assert.ok((await bucket.get(`${PREFIX}outage.bin`))?.equals(data), 'every acknowledged byte is in the object');
      await assertNoLeftovers(bucket, id);
    });
  });
}
