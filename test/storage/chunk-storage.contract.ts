import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChunkStorage } from 'nestjs-frago';
import { testBytes } from '../helpers/upload-client';

/** What a backend's spec hands to the shared suite. */
export interface ChunkStorageSubject {
  /** A fresh backend (the suite calls `init()`). */
  storage: ChunkStorage;
  /** The bytes published under `relativePath`, or null when nothing is there. */
  readPublished(relativePath: string): Promise<Buffer | null>;
  /** Frees everything the backend created. */
  cleanup(): Promise<void>;
}

/** Collects a stream into one buffer (test data is small). */
async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** A source that yields `bytes` in small pieces, asynchronously, like a socket. */
function trickle(bytes: Buffer, piece = 4096): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < bytes.length; offset += piece) {
        await sleep(0);
        yield bytes.subarray(offset, offset + piece);
      }
    })(),
  );
}

/** A source that yields `before` bytes and then fails, like a connection cut mid-body. */
function failingAfter(bytes: Buffer, before: number): Readable {
  return Readable.from(
    (async function* () {
      yield bytes.subarray(0, before);
      await sleep(5);
      throw new Error('source failed mid-way (expected in this test)');
    })(),
  );
}

/** A source that yields some bytes and then never ends. */
function stalling(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) this.push(bytes);
      sent = true;
    },
  });
}

/**
 * The shared suite every `ChunkStorage` backend must pass (the idea of
 * tus-node-server's `stores.ts`): chunks written at offsets, concurrently
 * and out of order, read back exactly; failed or aborted writes reject;
 * publishing is atomic, follows the candidate names in order and never
 * replaces an existing file; remove is idempotent.
 */
export function chunkStorageContract(name: string, factory: () => Promise<ChunkStorageSubject>): void {
  describe(`ChunkStorage contract: ${name}`, () => {
    let subject: ChunkStorageSubject;
    let storage: ChunkStorage;

    before(async () => {
      subject = await factory();
      storage = subject.storage;
      await storage.init();
    });
    after(async () => {
      await subject?.cleanup();
    });

    /** A created upload holding `data` written as chunks of `chunkSize`, in parallel and reversed. */
    async function uploadWith(data: Buffer, chunkSize: number): Promise<string> {
      const id = randomUUID();
      await storage.create(id, data.length);
      const offsets: number[] = [];
      for (let offset = 0; offset < data.length; offset += chunkSize) offsets.push(offset);
      const written = await Promise.all(offsets.reverse().map((offset) => storage.writeChunk(id, offset, trickle(data.subarray(offset, offset + chunkSize)))));
      assert.equal(
        written.reduce((sum, n) => sum + n, 0),
        data.length,
      );
      return id;
    }

    it('writes chunks at their offsets concurrently and out of order, and reads them back exactly', async () => {
      const data = testBytes(300_007, 51);
      const id = await uploadWith(data, 32_768);
      assert.deepEqual(await collect(storage.read(id, 0, data.length - 1)), data);
      assert.deepEqual(await collect(storage.read(id, 1000, 70_000, 4096)), data.subarray(1000, 70_001), 'end is inclusive');
      await storage.remove(id);
    });

    it('hashRange feeds exactly the stored bytes of a range, in order (several reads of a backend reading in blocks)', async () => {
      const data = testBytes(9 * 1024 * 1024 + 7, 53);
      const id = await uploadWith(data, 3 * 1024 * 1024);
      for (const [start, end] of [
        [0, data.length - 1],
        [1000, 4 * 1024 * 1024 + 1],
        [data.length - 1, data.length - 1],
      ]) {
        const hash = createHash('md5');
        await storage.hashRange(id, start, end, hash);
        assert.equal(
          hash.digest('hex'),
          createHash('md5')
            .update(data.subarray(start, end + 1))
            .digest('hex'),
          `bytes ${start}-${end}`,
        );
      }
      await storage.remove(id);
    });

    it('resolves writeChunk with the number of bytes written', async () => {
      const id = randomUUID();
      await storage.create(id, 10_000);
      assert.equal(await storage.writeChunk(id, 2500, Readable.from([testBytes(5000, 52)])), 5000);
      await storage.remove(id);
    });

    it('rejects writeChunk when the source errors mid-way, and a rewrite of the range then succeeds', async () => {
      const data = testBytes(100_000, 53);
      const id = randomUUID();
      await storage.create(id, data.length);
      await assert.rejects(storage.writeChunk(id, 0, failingAfter(Buffer.alloc(50_000, 0xab), 20_000)));
      assert.equal(await storage.writeChunk(id, 0, trickle(data)), data.length);
      assert.deepEqual(await collect(storage.read(id, 0, data.length - 1)), data);
      await storage.remove(id);
    });

    it('rejects writeChunk when its signal aborts while the source stalls', async () => {
      const id = randomUUID();
      await storage.create(id, 10_000);
      const controller = new AbortController();
      const writing = storage.writeChunk(id, 0, stalling(Buffer.alloc(1000, 1)), controller.signal);
      await sleep(20);
      controller.abort(new Error('client disconnected (expected in this test)'));
      await assert.rejects(writing);
      await storage.remove(id);
    });

    it('writeAvailable of a complete source resolves with every byte, readable back', async () => {
      const data = testBytes(70_001, 80);
      const id = randomUUID();
      await storage.create(id, data.length);
      const result = await storage.writeAvailable(id, 0, trickle(data));
      assert.equal(result.bytes, data.length);
      assert.equal(result.error, undefined);
      assert.deepEqual(await collect(storage.read(id, 0, data.length - 1)), data);
      await storage.remove(id);
    });

    it('writeAvailable of a source cut mid-way resolves with the durable prefix (never more than arrived) and the error; the rest can follow', async () => {
      const data = testBytes(100_000, 81);
      const id = randomUUID();
      await storage.create(id, data.length);
      const result = await storage.writeAvailable(id, 0, failingAfter(data, 30_000));
      assert.ok(result.error instanceof Error, 'the source failure is reported');
      assert.ok(result.bytes >= 0 && result.bytes <= 30_000, `counted ${result.bytes} of 30000 sent`);
      if (result.bytes > 0) assert.deepEqual(await collect(storage.read(id, 0, result.bytes - 1)), data.subarray(0, result.bytes));
      const rest = await storage.writeAvailable(id, result.bytes, trickle(data.subarray(result.bytes)));
      assert.equal(rest.bytes, data.length - result.bytes);
      assert.deepEqual(await collect(storage.read(id, 0, data.length - 1)), data);
      await storage.remove(id);
    });

    it('writeAvailable to a removed upload rejects (a storage fault, not a short source)', async () => {
      const id = randomUUID();
      await storage.create(id, 100);
      await storage.remove(id);
      await assert.rejects(storage.writeAvailable(id, 0, Readable.from([Buffer.alloc(10)])));
    });

    it('publishes the complete data under the given name; the chunk data stays until remove()', async () => {
      const data = testBytes(123_456, 54);
      const id = await uploadWith(data, 50_000);
      const target = `contract-${randomUUID()}/nested/file.bin`;
      const published = await storage.publish(id, target);
      assert.equal(published?.relativePath, target);
      assert.deepEqual(await subject.readPublished(target), data);
      assert.deepEqual(await collect(storage.read(id, 0, data.length - 1)), data, 'still readable for a retried finalize');
      await storage.remove(id);
      await assert.rejects(collect(storage.read(id, 0, data.length - 1)), 'no chunk data left to read');
      assert.deepEqual(await subject.readPublished(target), data, 'the published file outlives the chunk data');
    });

    it('publishing the same upload under the same name again (a finalize retried after a crash) resolves that name again, not null', async () => {
      const data = testBytes(20_000, 60);
      const id = await uploadWith(data, 5_000);
      const name = `again-${randomUUID()}.bin`;
      const first = await storage.publish(id, name);
      const second = await storage.publish(id, name);
      assert.equal(first?.relativePath, name);
      assert.equal(second?.relativePath, name);
      assert.deepEqual(await subject.readPublished(name), data);
      await storage.remove(id);
    });

    it('never publishes over an existing name: resolves null and leaves the existing file untouched', async () => {
      const existing = testBytes(3000, 58);
      const name = `full-${randomUUID()}.bin`;
      assert.equal((await storage.publish(await uploadWith(existing, 1000), name))?.relativePath, name);
      const id = await uploadWith(testBytes(3000, 59), 1000);
      assert.equal(await storage.publish(id, name), null);
      assert.deepEqual(await subject.readPublished(name), existing);
      await storage.remove(id);
    });

    it('gives exactly one of concurrent publishes to one name the name, each other null, the winner with its own complete bytes', async () => {
      const sources = Array.from({ length: 6 }, (_, i) => testBytes(20_000 + i, 60 + i));
      const ids = await Promise.all(sources.map((data) => uploadWith(data, 8192)));
      const name = `race-${randomUUID()}.bin`;
      const published = await Promise.all(ids.map((id) => storage.publish(id, name)));
      const winners = published.flatMap((file, i) => (file ? [i] : []));
      assert.equal(winners.length, 1, JSON.stringify(published));
      assert.deepEqual(await subject.readPublished(name), sources[winners[0]]);
    });

    it('makes a published file appear whole: a reader polling the name never sees partial bytes', async () => {
      const data = testBytes(4 * 1024 * 1024, 70);
      const id = await uploadWith(data, 1024 * 1024);
      const name = `atomic-${randomUUID()}.bin`;
      let publishing = true;
      const seen: number[] = [];
      const watcher = (async () => {
        while (publishing) {
          const bytes = await subject.readPublished(name);
          if (bytes) seen.push(bytes.length);
          if (bytes) assert.ok(bytes.equals(data), `a reader saw ${bytes.length} of ${data.length} bytes`);
          await sleep(0);
        }
      })();
      await storage.publish(id, name).finally(() => {
        publishing = false;
      });
      await watcher;
      assert.deepEqual(await subject.readPublished(name), data);
      assert.ok(seen.every((length) => length === data.length));
    });

    it('removes an upload idempotently; writing to a removed upload rejects', async () => {
      const id = await uploadWith(testBytes(10_000, 71), 5000);
      await storage.remove(id);
      await storage.remove(id);
      await storage.remove(randomUUID());
      await assert.rejects(storage.writeChunk(id, 0, Readable.from([Buffer.alloc(10)])));
    });
  });
}
