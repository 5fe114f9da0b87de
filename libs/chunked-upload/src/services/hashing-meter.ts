import { createHash, type Hash } from 'node:crypto';
import { ChunkSizeMismatchError } from '../errors/frago.errors';

/**
 * Counts the bytes of a chunk body, refuses more than `limit` as soon as they
 * arrive, and feeds the hashes it was asked for, so a chunk is checked while
 * it streams to storage and never held in memory. `running`, when given, is
 * fed too (the upload's whole-file hash, for a chunk that extends its prefix).
 */
export class HashingMeter {
  bytes = 0;
  private readonly hashes = new Map<string, Hash>();

  constructor(
    private readonly limit: number,
    algorithms: Iterable<string>,
    private readonly running?: Hash,
  ) {
    for (const algorithm of algorithms) if (!this.hashes.has(algorithm)) this.hashes.set(algorithm, createHash(algorithm));
  }

  /** Passes `source` through, counting and hashing; throws `ChunkSizeMismatchError` past the limit. */
  async *measure(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const data of source) {
      this.bytes += data.length;
      if (this.bytes > this.limit) throw new ChunkSizeMismatchError(this.limit, this.bytes);
      for (const hash of this.hashes.values()) hash.update(data);
      this.running?.update(data);
      yield data;
    }
  }

  /** The digest of everything that passed, per algorithm. */
  digest(algorithm: string): Buffer {
    const hash = this.hashes.get(algorithm);
    if (!hash) throw new Error(`No ${algorithm} hash was requested`);
    return hash.digest();
  }
}
