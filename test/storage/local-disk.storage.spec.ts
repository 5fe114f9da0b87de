import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkStorage, LocalDiskChunkStorage } from 'nestjs-frago';
import { testBytes } from '../helpers/upload-client';
import { chunkStorageContract } from './chunk-storage.contract';

/** A LocalDiskChunkStorage on two fresh temp folders. */
function localDisk(): { storage: LocalDiskChunkStorage; chunkDir: string; assembledDir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'frago-storage-'));
  const chunkDir = join(root, 'chunks');
  const assembledDir = join(root, 'assembled');
  return { storage: new LocalDiskChunkStorage(chunkDir, assembledDir), chunkDir, assembledDir, root };
}

chunkStorageContract('LocalDiskChunkStorage', async () => {
  const { storage, assembledDir, root } = localDisk();
  return {
    storage,
    readPublished: (relativePath) => fs.readFile(join(assembledDir, relativePath)).catch(() => null),
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('LocalDiskChunkStorage specifics', () => {
  it('writeAvailable keeps exactly the bytes that arrived before the source was cut', async () => {
    const { storage, root } = localDisk();
    try {
      await storage.init();
      const id = randomUUID();
      const data = testBytes(64_000, 90);
      await storage.create(id, data.length);
      const source = Readable.from(
        (async function* () {
          yield data.subarray(0, 10_000);
          yield data.subarray(10_000, 25_000);
          throw new Error('cut (expected in this test)');
        })(),
      );
      const result = await storage.writeAvailable(id, 0, source);
      assert.equal(result.bytes, 25_000);
      assert.ok(result.error instanceof Error);
      assert.match(result.error.message, /cut/);
      const stored = await fs.readFile(join(root, 'chunks', `${id}.part`));
      assert.deepEqual(stored.subarray(0, 25_000), data.subarray(0, 25_000));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the default writeAvailable of a backend without an override counts nothing of a cut source and all of a whole one', async () => {
    const { storage, root } = localDisk();
    const original = ChunkStorage.prototype.writeAvailable.bind(storage);
    try {
      await storage.init();
      const id = randomUUID();
      await storage.create(id, 1000);
      const cut = Readable.from(
        (async function* () {
          yield Buffer.alloc(500, 1);
          throw new Error('cut (expected in this test)');
        })(),
      );
      const partial = await original(id, 0, cut);
      assert.equal(partial.bytes, 0);
      assert.ok(partial.error instanceof Error);
      const whole = await original(id, 0, Readable.from([Buffer.alloc(1000, 2)]));
      assert.equal(whole.bytes, 1000);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('publishes to an absolute location inside the assembled folder; after remove() no temporary or chunk files are left', async () => {
    const { storage, chunkDir, assembledDir, root } = localDisk();
    try {
      await storage.init();
      const id = randomUUID();
      const data = testBytes(50_000, 81);
      await storage.create(id, data.length);
      await storage.writeChunk(id, 0, Readable.from([data]));
      const published = await storage.publish(id, 'sub/out.bin');
      assert.equal(published?.location, join(assembledDir, 'sub', 'out.bin'));
      assert.deepEqual(await fs.readFile(published?.location ?? ''), data);
      await storage.remove(id);
      assert.deepEqual(readdirSync(chunkDir), []);
      assert.deepEqual(readdirSync(join(assembledDir, 'sub')), ['out.bin']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a candidate that would leave the assembled folder', async () => {
    const { storage, root } = localDisk();
    try {
      await storage.init();
      const id = randomUUID();
      await storage.create(id, 10);
      await storage.writeChunk(id, 0, Readable.from([Buffer.alloc(10)]));
      await assert.rejects(storage.publish(id, '../escaped.bin'));
      assert.deepEqual(readdirSync(root).sort(), ['assembled', 'chunks']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('removes the chunk data file', async () => {
    const { storage, chunkDir, root } = localDisk();
    try {
      await storage.init();
      const id = randomUUID();
      await storage.create(id, 1000);
      assert.equal(readdirSync(chunkDir).length, 1);
      await storage.remove(id);
      assert.deepEqual(readdirSync(chunkDir), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
