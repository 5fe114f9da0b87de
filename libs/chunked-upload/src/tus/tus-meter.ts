import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChunkSizeMismatchError } from '../errors/frago.errors';

/**
 * Passes a PATCH body through unchanged, buffer by buffer (no copy, no
 * joining of buffers), counting its bytes, failing with
 * `ChunkSizeMismatchError` as soon as they pass `limit`, and hashing them
 * when the client sent `Upload-Checksum`.
 */
export class TusMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash | null;

  constructor(
    private readonly limit: number,
    algorithm?: string,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.hash = algorithm ? createHash(algorithm) : null;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += data.length;
    if (this.bytes > this.limit) {
      callback(new ChunkSizeMismatchError(this.limit, this.bytes));
      return;
    }
    this.hash?.update(data);
    callback(null, data);
  }

  /** The digest of everything that passed (only with an algorithm). */
  digest(): Buffer {
    if (!this.hash) throw new Error('No checksum was requested');
    return this.hash.digest();
  }
}
