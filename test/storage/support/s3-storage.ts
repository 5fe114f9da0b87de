/**
 * What the S3ChunkStorage specs share: a storage on a fresh prefix whose
 * client counts its commands, an upload stored as given chunk sizes, and an
 * instance that "dies" at given commands.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3ChunkStorage, createS3Client } from 'nestjs-frago/s3';
import type { TestBucket } from '../../helpers/test-s3';

export const MiB = 1024 * 1024;
/** Collects a stream into one buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** A storage on a fresh prefix of `bucket` whose client counts the commands it sends. */
export function storageOn(bucket: TestBucket, prefix = `t-${randomUUID()}/`): { storage: S3ChunkStorage; prefix: string; sent: string[] } {
  const client = createS3Client(bucket.config);
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { storage: new S3ChunkStorage({ bucket: bucket.name, prefix, client }), prefix, sent };
}

/** Creates an upload of `data` stored as the chunks `sizes` (in that order of offsets), sent in reverse. */
export async function uploadAs(storage: S3ChunkStorage, data: Buffer, sizes: number[]): Promise<string> {
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    data.length,
  );
  const id = randomUUID();
  await storage.create(id, data.length);
  const ranges: [number, number][] = [];
  let offset = 0;
  for (const size of sizes) {
    ranges.push([offset, size]);
    offset += size;
  }
  await Promise.all(ranges.reverse().map(([start, size]) => storage.writeChunk(id, start, Readable.from([data.subarray(start, start + size)]))));
  return id;
}

/**
 * Simulates an instance that dies at `commands`: from now on they fail
 * before reaching the server. Returns the function that lets them through again.
 */
export function dieAt(storage: S3ChunkStorage, commands: string[]): () => void {
  const name = `die-${randomUUID()}`;
  storage.client.middlewareStack.add(
    (next, context) => (args) => {
      if (commands.includes(context.commandName as string)) throw new Error('instance died (simulated)');
      return next(args);
    },
    { step: 'initialize', name },
  );
  return () => {
    storage.client.middlewareStack.remove(name);
  };
}
