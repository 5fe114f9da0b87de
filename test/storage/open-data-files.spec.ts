/**
 * LocalDiskChunkStorage keeps an upload's data file open across its chunks: one descriptor
 * for all its writers in this process, holding no lock once idle, closed when the upload is
 * removed. Read from /proc/self/fd (Linux) and with a real OFD lock from a second descriptor.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalDiskChunkStorage } from 'nestjs-frago';
import { testBytes } from '../helpers/upload-client';

interface NativeLocks {
  tryLock(fd: number, options: { shared: boolean }): boolean;
  unlock(fd: number): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const locks = require('fs-native-extensions') as NativeLocks;

/** Descriptors of this process open on `path` (also once it is deleted). */
function descriptorsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(path)) count++;
    } catch {
      // closed meanwhile (the readdir's own descriptor)
    }
  }
  return count;
}

const fence = { tookOver: false, stillReserved: () => Promise.resolve(true) };
const CHUNK = 16 * 1024;

async function withStorage(run: (storage: LocalDiskChunkStorage, dataFile: (id: string) => string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'frago-open-files-'));
  const storage = new LocalDiskChunkStorage(join(root, 'chunks'), join(root, 'assembled'));
  try {
    await storage.init();
    await run(storage, (id) => join(root, 'chunks', `${id}.part`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('LocalDiskChunkStorage data file descriptors', () => {
  it('writes of one upload, in turn and at once, share one descriptor, and every byte lands', async () => {
    await withStorage(async (storage, dataFile) => {
      const id = randomUUID();
      const data = testBytes(8 * CHUNK, 7);
      await storage.create(id, data.length);
      for (let i = 0; i < 4; i++) await storage.writeChunk(id, i * CHUNK, Readable.from([data.subarray(i * CHUNK, (i + 1) * CHUNK)]), undefined, fence);
      assert.equal(descriptorsOn(dataFile(id)), 1, 'one descriptor kept after four chunks in turn');
      await Promise.all(
        [4, 5, 6, 7].map((i) => storage.writeChunk(id, i * CHUNK, Readable.from([data.subarray(i * CHUNK, (i + 1) * CHUNK)]), undefined, fence)),
      );
      assert.equal(descriptorsOn(dataFile(id)), 1, 'still one after four chunks at once');
      assert.deepEqual(await fs.readFile(dataFile(id)), data);
    });
  });

  it('an idle descriptor holds no lock: another descriptor takes the EXCLUSIVE lock at once, as a publisher does', async () => {
    await withStorage(async (storage, dataFile) => {
      const id = randomUUID();
      await storage.create(id, CHUNK);
      await storage.writeChunk(id, 0, Readable.from([testBytes(CHUNK, 3)]), undefined, fence);
      assert.equal(descriptorsOn(dataFile(id)), 1);
      const other = await fs.open(dataFile(id), 'r+');
      try {
        assert.equal(locks.tryLock(other.fd, { shared: false }), true);
        locks.unlock(other.fd);
      } finally {
        await other.close();
      }
    });
  });

  it('a writer in flight keeps the shared lock until it is done, so the EXCLUSIVE lock waits for it', async () => {
    await withStorage(async (storage, dataFile) => {
      const id = randomUUID();
      await storage.create(id, 2 * CHUNK);
      let letGo = (): void => undefined;
      const gate = new Promise<void>((resolve) => (letGo = resolve));
      let reading = (): void => undefined;
      // The body is read only once the writer holds its lock and passed its fence.
      const bodyRead = new Promise<void>((resolve) => (reading = resolve));
      const slow = Readable.from(
        (async function* () {
          reading();
          yield testBytes(CHUNK, 1);
          await gate;
          yield testBytes(CHUNK, 2);
        })(),
      );
      const writing = storage.writeChunk(id, 0, slow, undefined, fence);
      await bodyRead;
      const other = await fs.open(dataFile(id), 'r+');
      try {
        let exclusive = locks.tryLock(other.fd, { shared: false });
        assert.equal(exclusive, false, 'the writer in flight holds the shared lock');
        letGo();
        assert.equal(await writing, 2 * CHUNK);
        exclusive = locks.tryLock(other.fd, { shared: false });
        assert.equal(exclusive, true, 'released once the writer is done');
        locks.unlock(other.fd);
      } finally {
        letGo();
        await other.close();
      }
    });
  });

  it('removing the upload closes its descriptor (a deleted file keeps no blocks)', async () => {
    await withStorage(async (storage, dataFile) => {
      const id = randomUUID();
      await storage.create(id, CHUNK);
      await storage.writeChunk(id, 0, Readable.from([testBytes(CHUNK, 5)]), undefined, fence);
      assert.equal(descriptorsOn(dataFile(id)), 1);
      await storage.remove(id);
      assert.equal(descriptorsOn(dataFile(id)), 0);
    });
  });
});
