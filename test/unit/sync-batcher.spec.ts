import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncBatcher } from 'nestjs-frago/dist/storage/sync-batcher';

/** Real file handles whose datasync calls are counted. */
async function countingHandles(path: string, count: number): Promise<{ handles: FileHandle[]; syncs: () => number }> {
  let syncs = 0;
  const handles = await Promise.all(
    Array.from({ length: count }, async () => {
      const handle = await open(path, 'r+');
      const real = handle.datasync.bind(handle);
      handle.datasync = async () => {
        syncs++;
        await real();
      };
      return handle;
    }),
  );
  return { handles, syncs: () => syncs };
}

describe('SyncBatcher', () => {
  it('eight writers arriving while a sync runs share two fdatasyncs: the running one and one after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frago-sync-'));
    const path = join(dir, 'data');
    try {
      await (await open(path, 'w')).close();
      const { handles, syncs } = await countingHandles(path, 8);
      const batcher = new SyncBatcher();
      await Promise.all(
        handles.map(async (handle, i) => {
          await handle.write(Buffer.alloc(4096, i), 0, 4096, i * 4096);
          await batcher.sync('upload', handle);
        }),
      );
      assert.ok(syncs() <= 2, `expected at most 2 syncs, got ${syncs()}`);
      assert.ok(syncs() >= 1);
      // a later caller starts a fresh sync: its own writes are never covered by an older one
      await handles[0].write(Buffer.alloc(10, 9), 0, 10, 0);
      const before = syncs();
      await batcher.sync('upload', handles[0]);
      assert.equal(syncs(), before + 1);
      await Promise.all(handles.map((handle) => handle.close()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failing sync rejects its waiters and the next caller gets a fresh sync', async () => {
    const batcher = new SyncBatcher();
    let calls = 0;
    const failing = {
      datasync: async () => {
        calls++;
        throw new Error('EIO');
      },
    } as unknown as FileHandle;
    await assert.rejects(batcher.sync('x', failing), /EIO/);
    const dir = mkdtempSync(join(tmpdir(), 'frago-sync-'));
    try {
      const handle = await open(join(dir, 'f'), 'w');
      await batcher.sync('x', handle);
      await handle.close();
      assert.equal(calls, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
