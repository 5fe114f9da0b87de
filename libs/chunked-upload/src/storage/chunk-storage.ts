import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FragoError } from '../errors/frago.errors';

/** Where a published file ended up. */
export interface PublishedFile {
  /** Path relative to the assembled folder, after sanitising and de-duplication. */
  relativePath: string;
  /** Backend-specific location (an absolute path for local disk, a key or URL elsewhere). */
  location: string;
}

/** Result of {@link ChunkStorage.writeAvailable}. */
export interface AvailableWrite {
  /** Bytes from the offset on that are durably stored. */
  bytes: number;
  /** Why the source ended early (a cut connection, an abort), when it did. */
  error?: unknown;
}

/**
 * A hint at `create()`: the upload is a tus partial upload that a final
 * upload will probably concatenate with the others of `group` (the same
 * owner) created around the same time, in creation order. A backend may lay
 * such uploads out side by side so the concatenation copies nothing
 * (`LocalDiskChunkStorage` does); each upload's bytes stay its own.
 */
export interface StoragePlacement {
  group: string;
}

/**
 * What a writer proves before its bytes may land (fencing). A writer can
 * stall (GC pause, VM freeze, SIGSTOP) past its reservation lease; the range
 * is then taken over and the upload may even be published while the stalled
 * writer still holds buffered bytes. A backend whose writers share one data
 * object with the published result (local disk: the published file is a
 * hard link of the data file) must make sure such a writer never writes
 * after a takeover or a publish; see `LocalDiskChunkStorage`.
 */
export interface WriteFence {
  /**
   * Resolves true while the writer's reservation still stands (a database
   * check). Called once the backend has fenced off publishers and takeovers,
   * right before the first byte is written.
   */
  stillReserved(): Promise<boolean>;
  /**
   * True when this reservation replaced a stale one (whose writer may still
   * be alive, stalled): the backend first waits until such a writer's bytes
   * can no longer land.
   */
  tookOver: boolean;
}

/**
 * What the caller knows about a chunk body before it streams: its exact
 * length, and the MD5 the client announced (`Content-MD5`). A backend whose
 * server verifies an MD5 sent ahead of the body (S3) can then stream the
 * bytes straight through instead of spooling them to learn their MD5; a
 * mismatch must still reject with `DigestMismatchError`, nothing stored.
 */
export interface ChunkBodyHints {
  /** Bytes the body must hold exactly. */
  size: number;
  /** The raw 16-byte MD5 the client announced for the body. */
  md5?: Buffer;
}

/** A write refused by its fence: the reservation is gone, or the data was published meanwhile. */
export class WriteFencedError extends Error {
  constructor(readonly reason: 'reservation-lost' | 'published') {
    super(reason === 'published' ? 'the upload was published meanwhile' : 'the reservation was taken over');
    this.name = 'WriteFencedError';
  }
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
  /**
   * True when `writeChunk()` has a `hints.md5` checked where the bytes are
   * stored (an S3 server verifies `Content-MD5`), rejecting a mismatch with
   * `DigestMismatchError` before anything counts: the caller then does not
   * hash the body for that MD5 itself.
   */
  readonly checksContentMd5: boolean = false;

  /** Called once at module start (create folders, check access). */
  async init(): Promise<void> {
    // nothing by default
  }

  /**
   * Start: prepare storage for an upload of `totalSize` bytes. `totalSize`
   * is 0 when the length is not known yet (tus `Upload-Defer-Length`): the
   * data then grows as it is written, from offset 0 without gaps.
   * `placement` is a hint a backend may ignore (see `StoragePlacement`).
   */
  abstract create(uploadId: string, totalSize: number, placement?: StoragePlacement): Promise<void>;

  /**
   * Chunk: write the bytes of `source` at `offset`. Resolves with the number
   * of bytes written only once they are durable; rejects when the source
   * errors or `signal` aborts, in which case the caller records nothing.
   * Concurrent calls for disjoint ranges of one upload must not interfere.
   * With a `fence`, no byte is written unless the fence holds (else it
   * rejects with `WriteFencedError`), and none lands after a publish or a
   * takeover that started later; it settles only once no write of it is in
   * flight any more. `hints` tell what the caller knows of the body ahead
   * (see `ChunkBodyHints`); a backend may ignore them.
   */
  abstract writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence, hints?: ChunkBodyHints): Promise<number>;

  /**
   * For a tus PATCH (tus 1.0.0 core: the server keeps the bytes it
   * received): write the bytes of `source` at `offset` and keep whatever
   * arrived, even when the source ends early (the client's connection was cut
   * mid-body). Resolves with the number of bytes from `offset` on that are
   * durable (0 when nothing can be vouched for), and with the source's
   * failure, if any, as `error`; rejects only when the storage itself fails
   * or the `fence` refuses the write (`WriteFencedError`); then nothing
   * counts. A `fence` is honoured as by `writeChunk()`.
   *
   * Optional for backends: this default delegates to `writeChunk()` and
   * counts nothing when the source fails, which is correct (the client
   * re-sends from the old offset) but keeps no partial data. Override it to
   * keep the durable prefix of a cut body.
   */
  async writeAvailable(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence): Promise<AvailableWrite> {
    try {
      return { bytes: await this.writeChunk(uploadId, offset, source, signal, fence) };
    } catch (error) {
      if (isStorageFault(error)) throw error;
      return { bytes: 0, error };
    }
  }

  /**
   * tus concatenation (the Concatenation extension): make the first `size` bytes of upload
   * `sourceId` (a complete partial upload) bytes `[offset, offset + size)`
   * of upload `targetId` (its final upload), as a chunk written there.
   * Resolves with the number of bytes stored, once they are durable; the
   * source stays until `remove(sourceId)`.
   *
   * Optional for backends: this default streams the bytes through the app
   * (`read()` into `writeChunk()`). A backend that can copy inside the
   * storage overrides it (`S3ChunkStorage`: one server-side CopyObject per
   * stored chunk).
   */
  async copyUpload(sourceId: string, size: number, targetId: string, offset: number, readSize?: number): Promise<number> {
    return this.writeChunk(targetId, offset, this.read(sourceId, 0, size - 1, readSize));
  }

  /**
   * tus concatenation: makes upload `targetId` (a final upload, created with
   * the parts' total size) the bytes of the complete `parts` one after the
   * other, each its first `size` bytes. Resolves with the bytes stored, once
   * they are durable. The parts are consumed: their data may be moved rather
   * than copied, and is removed with `remove()` afterwards.
   *
   * Optional for backends: this default calls `copyUpload()` part by part.
   * `LocalDiskChunkStorage` moves the first part's data file into place
   * (rename(2), no byte copied) and copies only the others.
   */
  async concatenate(targetId: string, parts: ReadonlyArray<{ id: string; size: number }>, readSize?: number): Promise<number> {
    let offset = 0;
    for (const part of parts) {
      const written = await this.copyUpload(part.id, part.size, targetId, offset, readSize);
      if (written !== part.size) return offset + written;
      offset += part.size;
    }
    return offset;
  }

  /** Finalize: stream the stored bytes `[start, end]` (inclusive) back. */
  abstract read(uploadId: string, start: number, end: number, readSize?: number): Readable;

  /**
   * The running whole-file hash: feeds the stored bytes `[start, end]` (inclusive) to `hash`, in
   * order. This default streams them through `read()`; a backend that can read its fresh data
   * faster overrides it (`LocalDiskChunkStorage`: large positional reads into reused buffers).
   */
  async hashRange(uploadId: string, start: number, end: number, hash: Hash): Promise<void> {
    for await (const data of this.read(uploadId, start, end, 1024 * 1024)) hash.update(data as Buffer);
  }

  /**
   * Finalize: make the complete data visible at `name` (a sanitised relative
   * path) under the assembled folder or object prefix, atomically, and
   * without ever overwriting another file or object.
   *
   * The name is already claimed for this upload in the database (table
   * `frago_name`, see `FragoNameClaim`): finalize claims a candidate name
   * first, then calls `publish` with it, so no two uploads are ever given the
   * same name and a backend without an atomic no-clobber write (S3) needs no
   * check of its own between uploads. The backend still refuses a name that
   * is taken by a file or object the database does not know (created by
   * someone else, or before the claims existed): it then resolves `null` and
   * finalize claims the next candidate.
   *
   * Must be idempotent: finalize retried after a crash (the process died
   * before the upload was marked complete) calls it again with the same name,
   * and it must then resolve that name again, never `null` for its own
   * earlier publish and never a second copy. The chunk data stays until
   * `remove()`, which finalize calls once the completion is recorded.
   */
  abstract publish(uploadId: string, name: string): Promise<PublishedFile | null>;

  /** After completion, abort and expiry: remove the upload's chunk data and what an interrupted publish left (temporary copies). Idempotent. */
  abstract remove(uploadId: string): Promise<void>;

  /**
   * Expiry sweeper, after each run: remove data that no live upload can own
   * any more, i.e. left by an instance that crashed before its `remove()`.
   * Every upload expires `expiration` after it starts, so anything written
   * before `staleBefore` (now − expiration) is such a leftover. Optional;
   * nothing by default.
   */
  sweep(_staleBefore: Date): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Readiness probe of `FragoHealth` (the storage is writable, a bucket
   * reachable): resolves when the storage takes a write now, rejects
   * with the reason when it does not. `null`: this storage is not probed
   * (reported `unchecked`).
   */
  probe(): Promise<{ freeBytes?: number } | null> {
    return Promise.resolve(null);
  }
}

/**
 * True for failures of the storage rather than of the source: a domain error
 * the backend raised (full disk, upload data gone) or a file system error.
 */
function isStorageFault(error: unknown): boolean {
  if (error instanceof FragoError || error instanceof WriteFencedError) return true;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EDQUOT', 'EIO', 'EBADF', 'EROFS', 'ENOENT', 'EACCES', 'EPERM', 'EFBIG'].includes(code);
}
