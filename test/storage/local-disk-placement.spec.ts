import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalDiskChunkStorage } from 'nestjs-frago';
import { testBytes } from '../helpers/upload-client';

/** A LocalDiskChunkStorage on fresh folders, with `run` given it and its chunk folder; the folders go afterwards. */
async function withStorage(run: (storage: LocalDiskChunkStorage, chunkDir: string, assembledDir: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'frago-placement-'));
  const chunkDir = join(root, 'chunks');
  const assembledDir = join(root, 'assembled');
  const storage = new LocalDiskChunkStorage(chunkDir, assembledDir);
  try {
    await storage.init();
    await run(storage, chunkDir, assembledDir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function readAll(storage: LocalDiskChunkStorage, id: string, size: number): Promise<Buffer> {
  const buffers: Buffer[] = [];
  for await (const data of storage.read(id, 0, size - 1)) buffers.push(data as Buffer);
  return Buffer.concat(buffers);
}

/** Four partials of one group (sizes differ), created one after the other, written at once in reverse order. */
async function fourPartials(storage: LocalDiskChunkStorage, group = 'owner:alice'): Promise<Array<{ id: string; size: number; data: Buffer }>> {
  const parts = [70_001, 50_000, 65_536, 3].map((size, index) => ({ id: randomUUID(), size, data: testBytes(size, 40 + index) }));
  for (const part of parts) await storage.create(part.id, part.size, { group });
  await Promise.all(
    [...parts].reverse().map(async (part) => {
      const half = Math.ceil(part.size / 2);
      assert.equal(await storage.writeChunk(part.id, 0, Readable.from([part.data.subarray(0, half)])), half);
      if (half < part.size) assert.equal((await storage.writeAvailable(part.id, half, Readable.from([part.data.subarray(half)]))).bytes, part.size - half);
    }),
  );
  return parts;
}

describe('LocalDiskChunkStorage: tus partial uploads laid out side by side', () => {
  it('keeps each partial its own bytes, and concatenated in creation order makes the shared file the final data without a copy', async () => {
    await withStorage(async (storage, chunkDir, assembledDir) => {
      const parts = await fourPartials(storage);
      for (const part of parts) assert.deepEqual(await readAll(storage, part.id, part.size), part.data);
      for (const part of parts) {
        const hash = createHash('md5');
        await storage.hashRange(part.id, 0, part.size - 1, hash);
        assert.equal(hash.digest('hex'), createHash('md5').update(part.data).digest('hex'), 'the running hash reads its own region');
      }
      const inode = (await fs.stat(join(chunkDir, `${parts[0].id}.part`))).ino;
      assert.equal((await fs.stat(join(chunkDir, `${parts[3].id}.part`))).ino, inode, 'the partials share one data file');
      const finalId = randomUUID();
      const total = parts.reduce((sum, part) => sum + part.size, 0);
      await storage.create(finalId, total);
      assert.equal(await storage.concatenate(finalId, parts), total);
      assert.equal((await fs.stat(join(chunkDir, `${finalId}.part`))).ino, inode, 'the final data is the shared file itself');
      for (const part of parts) await storage.remove(part.id);
      const expected = Buffer.concat(parts.map((part) => part.data));
      assert.deepEqual(await readAll(storage, finalId, total), expected);
      const published = await storage.publish(finalId, 'joined.bin');
      assert.deepEqual(await fs.readFile(published?.location ?? ''), expected);
      await storage.remove(finalId);
      assert.deepEqual(readdirSync(chunkDir), []);
      assert.deepEqual(readdirSync(assembledDir), ['joined.bin']);
    });
  });

  it('concatenates in any other order by copying, and removing one partial leaves the others intact', async () => {
    await withStorage(async (storage, chunkDir) => {
      const parts = await fourPartials(storage);
      const order = [parts[2], parts[0], parts[3], parts[1]];
      const finalId = randomUUID();
      const total = parts.reduce((sum, part) => sum + part.size, 0);
      await storage.create(finalId, total);
      assert.equal(await storage.concatenate(finalId, order), total);
      assert.deepEqual(await readAll(storage, finalId, total), Buffer.concat(order.map((part) => part.data)));
      await storage.remove(parts[0].id);
      await storage.remove(parts[2].id);
      assert.deepEqual(await readAll(storage, parts[1].id, parts[1].size), parts[1].data);
      assert.deepEqual(await readAll(storage, parts[3].id, parts[3].size), parts[3].data);
      await storage.remove(parts[1].id);
      await storage.remove(parts[3].id);
      await storage.remove(finalId);
      assert.deepEqual(readdirSync(chunkDir), []);
    });
  });

  it('a final over only some of the partials copies them and leaves the rest writable', async () => {
    await withStorage(async (storage) => {
      const parts = await fourPartials(storage);
      const finalId = randomUUID();
      await storage.create(finalId, parts[0].size + parts[1].size);
      await storage.concatenate(finalId, parts.slice(0, 2));
      assert.deepEqual(await readAll(storage, finalId, parts[0].size + parts[1].size), Buffer.concat([parts[0].data, parts[1].data]));
      const again = testBytes(parts[2].size, 77);
      await storage.writeChunk(parts[2].id, 0, Readable.from([again]));
      assert.deepEqual(await readAll(storage, parts[2].id, parts[2].size), again);
      assert.deepEqual(await readAll(storage, finalId, parts[0].size + parts[1].size), Buffer.concat([parts[0].data, parts[1].data]));
    });
  });

  it('refuses a write past a partial region (the next partial is untouched)', async () => {
    await withStorage(async (storage) => {
      const parts = await fourPartials(storage);
      const tooLong = Readable.from([Buffer.alloc(parts[0].size + 1, 0xee)]);
      await assert.rejects(storage.writeChunk(parts[0].id, 0, tooLong), (error: NodeJS.ErrnoException) => error.code === 'EFBIG');
      assert.deepEqual(await readAll(storage, parts[1].id, parts[1].size), parts[1].data);
    });
  });

  it('publishes one partial alone as a copy of its own bytes, again under the same name when retried', async () => {
    await withStorage(async (storage, _chunkDir, assembledDir) => {
      const parts = await fourPartials(storage);
      const first = await storage.publish(parts[1].id, 'alone.bin');
      assert.deepEqual(await fs.readFile(first?.location ?? ''), parts[1].data);
      assert.deepEqual(await storage.publish(parts[1].id, 'alone.bin'), first);
      await storage.remove(parts[1].id);
      assert.deepEqual(readdirSync(assembledDir), ['alone.bin']);
      assert.deepEqual(await readAll(storage, parts[2].id, parts[2].size), parts[2].data);
    });
  });

  it('puts partials of different groups in different files', async () => {
    await withStorage(async (storage, chunkDir) => {
      const alice = randomUUID();
      const bob = randomUUID();
      await storage.create(alice, 10, { group: 'owner:alice' });
      await storage.create(bob, 10, { group: 'owner:bob' });
      const inodes = await Promise.all([alice, bob].map(async (id) => (await fs.stat(join(chunkDir, `${id}.part`))).ino));
      assert.notEqual(inodes[0], inodes[1]);
    });
  });
});
