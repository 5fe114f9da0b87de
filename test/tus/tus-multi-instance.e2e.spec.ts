import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from 'tus-js-client';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { testBytes } from '../helpers/upload-client';
import { FragoEventLog } from '../helpers/frago-event-log';
import { createTus, headTus, metadata, openPatch, patchTus } from './support/tus-http';

// Two app instances on one server database and one shared folder, as behind a load balancer.
for (const kind of databaseKinds().filter((candidate) => candidate !== 'sqlite')) {
  describe(`tus across two instances on ${kind}`, () => {
    let db: TestDatabase;
    let a: TestApp;
    let b: TestApp;
    let dataDir: string;

    before(async () => {
      db = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'frago-tus-multi-'));
      a = await createTestApp({ db, dataDir, providers: [FragoEventLog], extras: { tusPath: 'files' } });
      b = await createTestApp({ db, dataDir, providers: [FragoEventLog], extras: { tusPath: 'files' } });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const on = (t: TestApp, url: string): string => `${t.baseUrl}${new URL(url).pathname}`;

    it('one tus upload is served by both: created on one, patched on either, HEAD agrees, published once', async () => {
      const data = testBytes(300_000, 41);
      const { url } = await createTus(`${a.baseUrl}/api/files`, {
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: 'multi.bin' }),
      });
      assert.equal((await patchTus(on(a, url), 0, data.subarray(0, 100_000))).status, 204);
      assert.equal((await headTus(on(b, url))).headers.get('upload-offset'), '100000');
      assert.equal((await patchTus(on(b, url), 100_000, data.subarray(100_000, 200_000))).status, 204);
      assert.equal((await patchTus(on(a, url), 200_000, data.subarray(200_000))).status, 204);
      assert.equal((await headTus(on(b, url))).headers.get('upload-offset'), String(data.length));
      assert.deepEqual(readFileSync(join(a.assembledDir, 'multi.bin')), data);
    });

    it('two PATCHes at one offset on different instances never both succeed', async () => {
      const data = testBytes(200_000, 42);
      const { url } = await createTus(`${a.baseUrl}/api/files`, {
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: 'multi-race.bin' }),
      });
      const first = openPatch(on(a, url), 0, data.length, data.subarray(0, 20_000));
      const second = await patchTus(on(b, url), 0, data);
      const statuses = [await first.finish(data.subarray(20_000)), second.status].sort();
      assert.deepEqual(statuses, [204, 409]);
      assert.deepEqual(readFileSync(join(a.assembledDir, 'multi-race.bin')), data);
    });

    it('tus-js-client parallelUploads: 4 with requests spread over both instances', async () => {
      const data = testBytes(800_000, 43);
      let turn = 0;
      const chunksBefore = [a.app.get(FragoEventLog).chunks.length, b.app.get(FragoEventLog).chunks.length];
      await new Promise<void>((resolve, reject) => {
        new Upload(data, {
          endpoint: `${a.baseUrl}/api/files/`,
          parallelUploads: 4,
          retryDelays: [],
          metadata: { filename: 'multi-parallel.bin' },
          onBeforeRequest: (request) => {
            const target = (turn++ % 2 === 0 ? a : b).baseUrl;
            const current = new URL(request.getURL());
            (request as unknown as { _url: string })._url = `${target}${current.pathname}`;
          },
          onSuccess: () => resolve(),
          onError: reject,
        }).start();
      });
      assert.deepEqual(readFileSync(join(a.assembledDir, 'multi-parallel.bin')), data);
      assert.ok(a.app.get(FragoEventLog).chunks.length > chunksBefore[0], 'instance A stored PATCHes');
      assert.ok(b.app.get(FragoEventLog).chunks.length > chunksBefore[1], 'instance B stored PATCHes');
    });
  });
}
