import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalDiskChunkStorage } from 'nestjs-frago';
import { IncrementalHasher } from 'nestjs-frago/dist/services/incremental-hash';
import { resolveChunkedUploadOptions } from 'nestjs-frago/dist/options/resolve-options';
import { digest, testBytes } from '../helpers/upload-client';

/** Local disk storage that counts the bytes read back, to see what finalize re-reads. */
class CountingStorage extends LocalDiskChunkStorage {
  bytesRead = 0;
  override async hashRange(uploadId: string, start: number, end: number, hash: Hash): Promise<void> {
    await super.hashRange(uploadId, start, end, hash);
    this.bytesRead += end - start + 1;
  }
  override read(uploadId: string, start: number, end: number, readSize?: number): Readable {
    const stream = super.read(uploadId, start, end, readSize);
    stream.on('data', (data: Buffer) => (this.bytesRead += data.length));
    return stream;
  }
}

describe('IncrementalHasher', () => {
  let dir: string;
  let storage: CountingStorage;
  const data = testBytes(1_000_003, 9);
  const chunk = 100_000;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frago-hash-'));
    storage = new CountingStorage(join(dir, 'c'), join(dir, 'a'), { fsync: false });
    await storage.init();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function store(id: string, start: number, end: number): Promise<void> {
    await storage.writeChunk(id, start, Readable.from([data.subarray(start, end + 1)]));
  }

  function hasher(options: Parameters<typeof resolveChunkedUploadOptions>[0] = {}): IncrementalHasher {
    return new IncrementalHasher(resolveChunkedUploadOptions(options), storage);
  }

  it('in-order chunks are hashed as they arrive, so the digest reads nothing more', async () => {
    const id = 'in-order';
    const h = hasher();
    await storage.create(id, data.length);
    for (let start = 0; start < data.length; start += chunk) {
      const end = Math.min(start + chunk, data.length) - 1;
      await store(id, start, end);
      h.chunkCommitted(id, start, end);
    }
    const result = await h.digest(id, data.length, 'md5');
    assert.equal(result, digest(data, 'md5'));
    assert.equal(storage.bytesRead, data.length, 'every byte read exactly once');
  });

  it('out-of-order chunks wait for the gap; a gap never committed here is read at the digest', async () => {
    const id = 'gappy';
    const h = hasher();
    storage.bytesRead = 0;
    await storage.create(id, data.length);
    const starts = [];
    for (let start = 0; start < data.length; start += chunk) starts.push(start);
    // commit everything except the chunk at 200000 through this hasher, in reverse order
    for (const start of starts.reverse()) {
      const end = Math.min(start + chunk, data.length) - 1;
      await store(id, start, end);
      if (start !== 200_000) h.chunkCommitted(id, start, end);
    }
    const result = await h.digest(id, data.length, 'md5');
    assert.equal(result, digest(data, 'md5'));
    assert.equal(storage.bytesRead, data.length, 'the prefix [0, 200000) before, the rest at the digest');
  });

  /** Stores a chunk the way ChunkService does: its bytes fed to the inline hash, when it got one, as they stream in. */
  async function storeInline(h: IncrementalHasher, id: string, start: number, end: number): Promise<void> {
    const inline = h.beginInline(id, start);
    inline?.hash.update(data.subarray(start, end + 1));
    await store(id, start, end);
    h.chunkCommitted(id, start, end, inline);
  }

  it('a sequential client is hashed inline: the digest is right and nothing is read back', async () => {
    const id = 'inline-sequential';
    const h = hasher();
    storage.bytesRead = 0;
    await storage.create(id, data.length);
    for (let start = 0; start < data.length; start += chunk) await storeInline(h, id, start, Math.min(start + chunk, data.length) - 1);
    assert.equal(await h.digest(id, data.length, 'md5'), digest(data, 'md5'));
    assert.equal(storage.bytesRead, 0, 'no byte read back');
  });

  it('only the chunk continuing the prefix is hashed inline, one at a time; the rest is read back', async () => {
    const id = 'inline-parallel';
    const h = hasher();
    storage.bytesRead = 0;
    await storage.create(id, data.length);
    const first = h.beginInline(id, 0);
    assert.notEqual(first, null, 'the chunk at the prefix gets an inline hash');
    assert.equal(h.beginInline(id, 0), null, 'a second one at the same offset does not');
    assert.equal(h.beginInline(id, chunk), null, 'a chunk past the prefix does not');
    // The chunk after it commits first (read back later), then the first one with its inline hash.
    await store(id, chunk, 2 * chunk - 1);
    h.chunkCommitted(id, chunk, 2 * chunk - 1);
    first?.hash.update(data.subarray(0, chunk));
    await store(id, 0, chunk - 1);
    h.chunkCommitted(id, 0, chunk - 1, first);
    // The rest is stored by another instance: read at the digest.
    for (let start = 2 * chunk; start < data.length; start += chunk) await store(id, start, Math.min(start + chunk, data.length) - 1);
    assert.equal(await h.digest(id, data.length, 'md5'), digest(data, 'md5'));
    assert.equal(storage.bytesRead, data.length - chunk, 'all but the inline chunk read once');
  });

  it('an abandoned inline chunk leaves the hash as it was; its retry is hashed inline again', async () => {
    const id = 'inline-abandoned';
    const h = hasher();
    storage.bytesRead = 0;
    await storage.create(id, data.length);
    const failed = h.beginInline(id, 0);
    failed?.hash.update(Buffer.from('bytes of a chunk that never counted'));
    h.abandonInline(id, failed);
    for (let start = 0; start < data.length; start += chunk) await storeInline(h, id, start, Math.min(start + chunk, data.length) - 1);
    assert.equal(await h.digest(id, data.length, 'md5'), digest(data, 'md5'));
    assert.equal(storage.bytesRead, 0);
  });

  it('answers null for another algorithm or an unknown upload, so finalize reads it all', async () => {
    const h = hasher();
    h.chunkCommitted('in-order-2', 0, 10);
    assert.equal(await h.digest('in-order-2', 11, 'sha256'), null);
    assert.equal(await h.digest('never-seen', 11, 'md5'), null);
  });

  it('does nothing when checksums are off', async () => {
    const h = hasher({ doChecksum: false });
    h.chunkCommitted('x', 0, 10);
    assert.equal(await h.digest('x', 11, 'md5'), null);
  });
});
