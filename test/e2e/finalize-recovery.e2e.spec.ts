import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDiskChunkStorage, type PublishedFile } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

/** Publishes for real, then fails once, as a process dying before the completion is recorded would. */
class FailAfterPublishStorage extends LocalDiskChunkStorage {
  failNext = true;
  override async publish(uploadId: string, candidates: Iterable<string>): Promise<PublishedFile> {
    const published = await super.publish(uploadId, candidates);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('simulated crash after publish');
    }
    return published;
  }
}

for (const kind of databaseKinds()) {
  describe(`finalize after a failure between publish and completion on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let storage: FailAfterPublishStorage;

    before(async () => {
      db = await createTestDatabase(kind);
      const dataDir = mkdtempSync(join(tmpdir(), 'frago-recovery-'));
      storage = new FailAfterPublishStorage(join(dataDir, 'chunks'), join(dataDir, 'assembled'));
      t = await createTestApp({ db, dataDir, options: { storage } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('answers 500 once, stays resumable, and a retried finalize reuses the published file (201, no numbered copy)', async () => {
      const data = testBytes(300_000, 41);
      const id = await startOk(t.uploadUrl, 'recover.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      const failed = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(failed.status, 500);
      assert.equal((await getStatus(t.uploadUrl, id)).body.status, 'in_progress');
      const retried = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.deepEqual(readdirSync(join(t.dataDir, 'assembled')), ['recover.bin']);
      assert.deepEqual(readFileSync(join(t.dataDir, 'assembled', 'recover.bin')), data);
      assert.deepEqual(readdirSync(join(t.dataDir, 'chunks')), [], 'chunk data removed once complete');
    });
  });
}
