import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChunkSizeMismatchError } from '../errors/frago.errors';

/**
 * Pass-through that counts bytes, refuses more than `limit` as soon as they
 * arrive, and feeds the hashes it was asked for, so a chunk is checked while
 * it streams to storage and never held in memory.
 */
export class HashingMeter extends Transform {
  bytes = 0;
  private readonly hashes = new Map<string, Hash>();

  constructor(private readonly limit: number, algorithms: Iterable<string>) {
    super();
    for (const algorithm of algorithms) if (!this.hashes.has(algorithm)) this.hashes.set(algorithm, createHash(algorithm));
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += data.length;
    if (this.bytes > this.limit) {
      callback(new ChunkSizeMismatchError(this.limit, this.bytes));
      return;
    }
    for (const hash of this.hashes.values()) hash.update(data);
    callback(null, data);
  }

  /** The digest of everything that passed, per algorithm. */
  digest(algorithm: string): Buffer {
    const hash = this.hashes.get(algorithm);
    if (!hash) throw new Error(`No ${algorithm} hash was requested`);
    return hash.digest();
  }
}
