import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { startExampleApp, type ExampleApp } from '../client/support/example-app';
import { postgresBinaries, startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres';
import { CuttableProxy } from '../helpers/cuttable-proxy';
import { createTestBucket, reportS3Skipped, testS3Config, type TestBucket } from '../helpers/test-s3';

interface Report {
  status: string;
  database: { status: string; detail?: string };
  storage: { status: string; detail?: string };
}

async function ready(app: ExampleApp): Promise<{ status: number; body: Report }> {
  const response = await fetch(`${app.apiUrl}/health/ready`);
  return { status: response.status, body: (await response.json()) as Report };
}

async function live(app: ExampleApp): Promise<number> {
  const response = await fetch(`${app.apiUrl}/health/live`);
  await response.arrayBuffer();
  return response.status;
}

/** Asks readiness until `until` holds (the app notices an outage or a recovery on its next query). */
async function readyUntil(app: ExampleApp, until: (answer: { status: number; body: Report }) => boolean): Promise<{ status: number; body: Report }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await ready(app);
    if (until(answer) || Date.now() > deadline) return answer;
  }
}

const binaries = postgresBinaries();
const skip = 'missing' in binaries ? `${binaries.missing}: the database-down readiness test needs a PostgreSQL server of its own` : false;
if (skip && process.env.CI === 'true') throw new Error(`${skip}; CI=true does not allow skipping it`);

describe("readiness answers 503 while the database is down, liveness stays 200 (a PostgreSQL server of the test's own, stopped for real)", { skip }, () => {
  let pg: OwnPostgres;
  let app: ExampleApp;

  before(async () => {
    pg = await startOwnPostgres();
    const admin = new Client({ connectionString: pg.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE frago');
    await admin.end();
    app = await startExampleApp({ DATABASE_URL: pg.url('frago'), DATABASE_POOL_SIZE: '4' });
  });
  after(async () => {
    try {
      await (app as ExampleApp | undefined)?.stop();
    } finally {
      (pg as OwnPostgres | undefined)?.destroy();
    }
  });

  it('200 while up; 503 with database down (and its reason) once the server stopped, liveness 200; 200 again once it is back', async () => {
    const up = await ready(app);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.database.status, 'up');

    pg.stop();
    const down = await readyUntil(app, (answer) => answer.status !== 200);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.status, 'error');
    assert.equal(down.body.database.status, 'down');
    assert.ok((down.body.database.detail ?? '').length > 0, 'says why');
    assert.equal(down.body.storage.status, 'up', 'the storage is fine');
    assert.equal(await live(app), 200, 'liveness does not depend on the database (an orchestrator must not restart the app for an outage)');
    const start = await fetch(`${app.apiUrl}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'a.bin', total_size: 1 }),
    });
    assert.equal(start.status, 503);
    assert.equal(((await start.json()) as { code: string }).code, 'DATABASE_UNAVAILABLE');

    pg.start();
    const back = await readyUntil(app, (answer) => answer.status === 200);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.database.status, 'up');
  });
});

describe('readiness answers 503 while the chunk folder is not writable, liveness stays 200', () => {
  let app: ExampleApp;
  before(async () => {
    app = await startExampleApp();
  });
  after(async () => {
    await (app as ExampleApp | undefined)?.stop();
  });

  it('a chunk folder replaced by a file (a volume gone) is storage down, 503; restored, 200', async () => {
    assert.equal((await ready(app)).status, 200);
    const folder = join(app.dataDir, 'chunked_uploads');
    await rm(folder, { recursive: true, force: true });
    await writeFile(folder, 'not a folder');
    const down = await ready(app);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.status, 'error');
    assert.equal(down.body.storage.status, 'down');
    assert.match(down.body.storage.detail ?? '', /not writable/);
    assert.equal(down.body.database.status, 'up');
    assert.equal(await live(app), 200);

    await rm(folder);
    await mkdir(folder);
    const back = await ready(app);
    assert.equal(back.status, 200, JSON.stringify(back.body));
  });
});

const s3 = testS3Config();
if (!s3) {
  describe('readiness with S3 storage', () => reportS3Skipped('readiness with S3 storage'));
} else {
  describe('readiness answers 503 while the S3 bucket is unreachable (the S3 connection cut at a TCP proxy), liveness stays 200', () => {
    let bucket: TestBucket;
    let proxy: CuttableProxy;
    let app: ExampleApp;
    before(async () => {
      bucket = await createTestBucket(s3);
      const endpoint = new URL(s3.endpoint);
      proxy = new CuttableProxy({ host: endpoint.hostname, port: Number(endpoint.port || 80) });
      await proxy.open();
      const credentials = s3.credentials as { accessKeyId: string; secretAccessKey: string };
      app = await startExampleApp({
        FRAGO_STORAGE: 's3',
        FRAGO_S3_BUCKET: bucket.name,
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${proxy.port}`,
        AWS_REGION: String(s3.region),
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      });
    });
    after(async () => {
      try {
        await (app as ExampleApp | undefined)?.stop();
      } finally {
        await (proxy as CuttableProxy | undefined)?.cut();
        await (bucket as TestBucket | undefined)?.drop();
      }
    });

    it('200 with the bucket taking writes (the probe object is gone again); 503 storage down once cut; 200 again once reachable', async () => {
      const up = await ready(app);
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.equal(up.body.storage.status, 'up');
      assert.deepEqual(
        (await bucket.keys()).filter((key) => key.includes('.frago-health/')),
        [],
        'the probe leaves nothing behind',
      );

      await proxy.cut();
      const down = await ready(app);
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.equal(down.body.storage.status, 'down');
      assert.match(down.body.storage.detail ?? '', /S3ChunkStorage does not take writes/);
      assert.equal(down.body.database.status, 'up');
      assert.equal(await live(app), 200);

      await proxy.open();
      const back = await readyUntil(app, (answer) => answer.status === 200);
      assert.equal(back.status, 200, JSON.stringify(back.body));
    });
  });
}
