import type { Readable } from 'node:stream';

/** Where a published file ended up. */
export interface PublishedFile {
  /** Path relative to the assembled folder, after sanitising and de-duplication. */
  relativePath: string;
  /** Backend-specific location (an absolute path for local disk, a key or URL elsewhere). */
  location: string;
}

/**
 * The storage contract: chunk bytes in, one assembled file out. Abstract
 * class, so one name is both the type and the DI token; hosts `extends` it
 * to plug in another backend (pass an instance as the `storage` option).
 * Every method must be safe to call from several app instances sharing the
 * same storage. Shared contract tests: `test/storage/chunk-storage.contract.ts`.
 * @publicApi
 */
export abstract class ChunkStorage {
  /** Called once at module start (create folders, check access). */
  async init(): Promise<void> {
    // nothing by default
  }

  /** Start: prepare storage for an upload of `totalSize` bytes. */
  abstract create(uploadId: string, totalSize: number): Promise<void>;

  /**
   * Chunk: write the bytes of `source` at `offset`. Resolves with the number
   * of bytes written only once they are durable; rejects when the source
   * errors or `signal` aborts, in which case the caller records nothing.
   * Concurrent calls for disjoint ranges of one upload must not interfere.
   */
  abstract writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal): Promise<number>;

  /** Finalize: stream the stored bytes `[start, end]` (inclusive) back. */
  abstract read(uploadId: string, start: number, end: number, readSize?: number): Readable;

  /**
   * Finalize: make the complete data visible at one of `candidates` (already
   * sanitised relative paths, tried in order) under the assembled folder,
   * atomically and without ever overwriting another file. Must be
   * idempotent: if an earlier call already published this upload's data (the
   * process died before the upload was marked complete), return that name
   * again. The chunk data stays until `remove()`, which finalize calls once
   * the completion is recorded.
   */
  abstract publish(uploadId: string, candidates: Iterable<string>): Promise<PublishedFile>;

  /** After completion, abort and expiry: remove the upload's chunk data. Idempotent. */
  abstract remove(uploadId: string): Promise<void>;
}
