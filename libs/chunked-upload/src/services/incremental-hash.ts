import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, type Hash } from 'node:crypto';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { ChunkStorage } from '../storage/chunk-storage';

/** Hash state of one upload's contiguous prefix, as seen by this process. */
interface PrefixHash {
  hash: Hash;
  /** First byte not yet hashed. */
  offset: number;
  /** Chunks committed here but not yet contiguous with the prefix: start → end (inclusive). */
  pending: Map<number, number>;
  /** The chain of reads feeding the hash, in file order. */
  work: Promise<void>;
  failed: boolean;
}

const MAX_TRACKED_UPLOADS = 10_000;

/**
 * Hashes each upload's data while it arrives, so that finalize need not read
 * the whole file again: when a chunk committed by this process
 * extends the contiguous prefix, the new bytes are read back (from the page
 * cache) and fed to a running hash of `checksumType`. At finalize only what
 * the prefix does not cover yet is read. Chunks committed by other instances
 * are simply picked up by that final read, so the result is always the hash
 * of the stored bytes; after a restart the state is gone and finalize falls
 * back to one full pass.
 */
@Injectable()
export class IncrementalHasher {
  private readonly logger = new Logger('nestjs-frago');
  private readonly states = new Map<string, PrefixHash>();

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly storage: ChunkStorage,
  ) {}

  /** Called after a chunk `[start, end]` of `uploadId` was committed by this process. */
  chunkCommitted(uploadId: string, start: number, end: number): void {
    if (!this.options.doChecksum) return;
    const state = this.stateOf(uploadId);
    if (state.failed || start < state.offset) return;
    state.pending.set(start, end);
    while (state.pending.has(state.offset)) {
      const from = state.offset;
      const to = state.pending.get(from) as number;
      state.pending.delete(from);
      state.offset = to + 1;
      state.work = state.work.then(() => this.feed(uploadId, state, from, to));
    }
  }

  /**
   * The hex digest of bytes `[0, totalSize)` when this process has been
   * hashing the upload with `algorithm`, reading only the part not hashed
   * yet; null when it has no usable state (the caller then reads it all).
   */
  async digest(uploadId: string, totalSize: number, algorithm: string): Promise<string | null> {
    const state = this.states.get(uploadId);
    if (!state || algorithm !== this.options.checksumType) return null;
    await state.work;
    if (state.failed || state.offset > totalSize) return null;
    if (state.offset < totalSize) {
      await this.feed(uploadId, state, state.offset, totalSize - 1);
      state.offset = totalSize;
      state.pending.clear();
      if (state.failed) return null;
    }
    return state.hash.copy().digest('hex');
  }

  /** Drops an upload's state (completed, deleted, expired). */
  forget(uploadId: string): void {
    this.states.delete(uploadId);
  }

  private stateOf(uploadId: string): PrefixHash {
    let state = this.states.get(uploadId);
    if (!state) {
      if (this.states.size >= MAX_TRACKED_UPLOADS) this.states.delete(this.states.keys().next().value as string);
      state = { hash: createHash(this.options.checksumType), offset: 0, pending: new Map(), work: Promise.resolve(), failed: false };
      this.states.set(uploadId, state);
    }
    return state;
  }

  private async feed(uploadId: string, state: PrefixHash, start: number, end: number): Promise<void> {
    if (state.failed) return;
    try {
      for await (const data of this.storage.read(uploadId, start, end, 1024 * 1024)) state.hash.update(data as Buffer);
    } catch (error) {
      state.failed = true; // e.g. the upload was deleted meanwhile; finalize will read everything
      this.logger.debug?.(`Incremental hash of ${uploadId} stopped: ${(error as Error)?.message}`);
    }
  }
}
