import { Inject, Injectable, Logger } from '@nestjs/common';
import { errorText } from '../domain/error-text';
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
  /** Read-backs queued or running on `work`. */
  feeding: number;
  /** A chunk at `offset` is being hashed as it arrives (see `beginInline`). */
  inline: InlineHash | null;
  failed: boolean;
}

/** The upload's running hash, copied for one in-order chunk, fed its bytes as they arrive. */
export interface InlineHash {
  readonly hash: Hash;
  readonly start: number;
}

const MAX_TRACKED_UPLOADS = 10_000;

/**
 * Hashes each upload's data while it arrives, so that finalize need not read
 * the whole file again. A chunk that starts where the hashed prefix ends,
 * while nothing is being read back, is hashed inline as its bytes stream in
 * (a copy of the running hash, adopted once the chunk commits, dropped if it
 * fails): a sequential client costs no read at all. Otherwise, when a chunk
 * committed by this process extends the contiguous prefix, the new bytes are
 * read back (from the page cache) and fed to the running hash of
 * `checksumType`. At finalize only what the prefix does not cover yet is read. Chunks committed by other instances
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

  /**
   * A hash to feed the bytes of the chunk at `start` to as they arrive, when
   * that chunk is the next the prefix needs and no read-back is queued; null
   * otherwise. Hand it to `chunkCommitted` (all of the chunk's bytes fed) or
   * to `abandonInline` (the chunk failed).
   */
  beginInline(uploadId: string, start: number): InlineHash | null {
    if (!this.options.doChecksum) return null;
    const state = this.stateOf(uploadId);
    if (state.failed || state.inline !== null || state.feeding > 0 || state.offset !== start) return null;
    state.inline = { hash: state.hash.copy(), start };
    return state.inline;
  }

  /** The chunk hashed inline did not count: its copy of the hash is dropped. */
  abandonInline(uploadId: string, inline: InlineHash | null): void {
    const state = this.states.get(uploadId);
    if (inline !== null && state?.inline === inline) state.inline = null;
  }

  /** Called after a chunk `[start, end]` of `uploadId` was committed by this process (with its inline hash, if it had one). */
  chunkCommitted(uploadId: string, start: number, end: number, inline: InlineHash | null = null): void {
    if (!this.options.doChecksum) return;
    const state = this.stateOf(uploadId);
    if (inline !== null && state.inline === inline) {
      state.inline = null;
      if (!state.failed && state.offset === start) {
        state.hash = inline.hash;
        state.offset = end + 1;
        this.feedPending(uploadId, state);
        return;
      }
    }
    if (state.failed || start < state.offset) return;
    state.pending.set(start, end);
    this.feedPending(uploadId, state);
  }

  /** Reads back the committed chunks that now continue the prefix. */
  private feedPending(uploadId: string, state: PrefixHash): void {
    while (state.pending.has(state.offset)) {
      const from = state.offset;
      const to = state.pending.get(from) as number;
      state.pending.delete(from);
      state.offset = to + 1;
      state.feeding++;
      state.work = state.work
        .then(async () => {
          await this.feed(uploadId, state, from, to);
        })
        .finally(() => {
          state.feeding--;
        });
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
      const fed = await this.feed(uploadId, state, state.offset, totalSize - 1);
      state.offset = totalSize;
      state.pending.clear();
      if (!fed) return null;
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
      state = { hash: createHash(this.options.checksumType), offset: 0, pending: new Map(), work: Promise.resolve(), feeding: 0, inline: null, failed: false };
      this.states.set(uploadId, state);
    }
    return state;
  }

  /** Hashes bytes start..end into the prefix; false once the prefix hash is unusable. */
  private async feed(uploadId: string, state: PrefixHash, start: number, end: number): Promise<boolean> {
    if (state.failed) return false;
    try {
      await this.storage.hashRange(uploadId, start, end, state.hash);
      return true;
    } catch (error) {
      state.failed = true; // e.g. the upload was deleted meanwhile; finalize will read everything
      this.logger.debug(`Incremental hash of ${uploadId} stopped: ${errorText(error)}`);
      return false;
    }
  }
}
