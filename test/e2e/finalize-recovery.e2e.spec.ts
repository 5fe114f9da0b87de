import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDiskChunkStorage, type PublishedFile } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

/** Publishes for real, then fails once, as a process dying before the completion is recorded would. */
class FailAfterPublishStorage extends LocalDiskChunkStorage {
  failNext = true;
  override async publish(uploadId: string, name: string): Promise<PublishedFile | null> {
    const published = await super.publish(uploadId, name);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('simulated crash after publish');
    }
    return published;
  }
}

/**
 * A folder on another file system than the temp folder (chunk data), for the assembled files:
 * /dev/shm when it is a different mount, else a tmpfs this test mounts (root only), else null.
 */
function otherFileSystemDir(): { dir: string; cleanup(): void } | null {
  const chunkDev = statSync(tmpdir()).dev;
  if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== chunkDev) {
    const dir = mkdtempSync('/dev/shm/frago-assembled-');
    return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'frago-mount-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]).status === 0;
  if (!mounted || statSync(dir).dev === chunkDev) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    cleanup: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const kind of databaseKinds()) {
  describe(`finalize retried after a failure between a cross-file-system publish and completion on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp | undefined;
    let storage: FailAfterPublishStorage;
    let other: { dir: string; cleanup(): void } | null;

    before(async () => {
      db = await createTestDatabase(kind);
      other = otherFileSystemDir();
      if (!other) return;
      const dataDir = mkdtempSync(join(tmpdir(), 'frago-recovery-xfs-'));
      storage = new FailAfterPublishStorage(join(dataDir, 'chunks'), other.dir);
      t = await createTestApp({ db, dataDir, options: { storage }, expectedErrors: [/simulated crash after publish/] });
    });
    after(async () => {
      await t?.close();
      other?.cleanup();
      await db?.drop();
    });

    it('publishes under the same name (no numbered duplicate) and leaves no temporary copy behind', async (test) => {
      if (!t || !other) {
        console.warn('SKIPPED: no second file system (/dev/shm on the same device and mount(8) refused)');
        test.skip('no second file system available');
        return;
      }
      const data = testBytes(300_000, 42);
      const id = await startOk(t.uploadUrl, 'across.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 500);
      const retried = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.deepEqual(readdirSync(other.dir), ['across.bin'], 'one published file, no across-1.bin, no .frago-*.tmp');
      assert.deepEqual(readFileSync(join(other.dir, 'across.bin')), data);
    });

    it('a copy cut by kill -9 (a partial .frago-<id>.tmp) is replaced by a whole one on retry and removed with the upload', async (test) => {
      if (!t || !other) {
        test.skip('no second file system available');
        return;
      }
      const data = testBytes(200_000, 43);
      const id = await startOk(t.uploadUrl, 'cut-copy.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      writeFileSync(join(other.dir, `.frago-${id}.tmp`), data.subarray(0, 1000));
      storage.failNext = false;
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(other.dir, 'cut-copy.bin')), data);
      assert.deepEqual(
        readdirSync(other.dir).filter((name) => name.startsWith('.frago-')),
        [],
        'no temporary copy left',
      );
    });
  });

  describe(`finalize after a failure between publish and completion on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let storage: FailAfterPublishStorage;

    before(async () => {
      db = await createTestDatabase(kind);
      const dataDir = mkdtempSync(join(tmpdir(), 'frago-recovery-'));
      storage = new FailAfterPublishStorage(join(dataDir, 'chunks'), join(dataDir, 'assembled'));
      t = await createTestApp({ db, dataDir, options: { storage }, expectedErrors: [/simulated crash after publish/] });
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
