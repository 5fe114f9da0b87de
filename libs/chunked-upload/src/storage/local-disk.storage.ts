import { constants, createReadStream, promises as fs } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { ChunkStorage, WriteFencedError, type AvailableWrite, type PublishedFile, type WriteFence } from './chunk-storage';
import type { FileHandle } from 'node:fs/promises';
import { lockFile, unlockFile } from './file-lock';

/** Longest wait for a data file lock held by writers or a publisher (then 503, retry). */
const LOCK_WAIT_MS = 10_000;
/** Longest wait, after a takeover, for a stalled predecessor's bytes to land (then 503, retry). */
const TAKEOVER_WAIT_MS = 30_000;
import { PositionalWriter } from './positional-writer';
import { SyncBatcher } from './sync-batcher';
import { FlushGate, WriteBehind } from './write-behind';
import { StorageFullError, StorageUnavailableError, UploadNotFoundError } from '../errors/frago.errors';

/**
 * Default backend: one sparse data file per upload under `chunkDir`, chunks
 * written at their offset (no chunk files, no copy at finalize), fsynced
 * before a chunk counts, and published into `assembledDir` with link(2), which
 * is atomic and fails rather than overwrite. Several instances may share the
 * folders (a shared volume).
 * @publicApi
 */
export class LocalDiskChunkStorage extends ChunkStorage {
  private readonly chunkDir: string;
  private readonly assembledDir: string;
  private readonly fsync: boolean;
  private readonly syncs = new SyncBatcher();
  /** Early (write-behind) flushes in flight across this storage's writers; the libuv pool has 4 threads by default. */
  private readonly flushGate = new FlushGate(2);

  /**
   * @param chunkDir folder of the per-upload data files
   * @param assembledDir folder where complete files are published
   * @param options.fsync flush each chunk to the disk (fdatasync) before it
   *   counts, so an acknowledged chunk survives a power loss, not only a
   *   process crash. @default true
   */
  constructor(chunkDir: string, assembledDir: string, options: { fsync?: boolean } = {}) {
    super();
    this.chunkDir = resolve(chunkDir);
    this.assembledDir = resolve(assembledDir);
    this.fsync = options.fsync ?? true;
  }

  override async init(): Promise<void> {
    await fs.mkdir(this.chunkDir, { recursive: true });
    await fs.mkdir(this.assembledDir, { recursive: true });
  }

  private dataFile(uploadId: string): string {
    return join(this.chunkDir, `${uploadId}.part`);
  }

  async create(uploadId: string, totalSize: number): Promise<void> {
    const handle = await fs.open(this.dataFile(uploadId), 'wx').catch(rethrowStorage);
    try {
      await handle.truncate(totalSize).catch(rethrowStorage);
    } finally {
      await handle.close();
    }
  }

  async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence): Promise<number> {
    const handle = await this.openData(uploadId);
    let sink: PositionalWriter | undefined;
    const behind = this.writeBehind(handle);
    try {
      if (fence) await this.fenceWriter(uploadId, handle, fence);
      sink = new PositionalWriter(
        handle,
        offset,
        behind
          ? (bytes) => {
              behind.progress(bytes);
            }
          : undefined,
      );
      await pipeline(source, sink, signal ? { signal } : {}).catch(rethrowStorage);
      if (behind) await behind.settle().catch(rethrowStorage);
      if (this.fsync) await this.syncs.sync(uploadId, handle).catch(rethrowStorage);
      return sink.bytesWritten;
    } finally {
      // Settle only once no write (nor early flush) of ours is in flight: the caller may then release the range.
      await sink?.idle();
      await behind?.idle();
      unlockFile(handle);
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Fencing of a writer that may have stalled (issue: a writer paused past its
   * lease wrote into the published file, a hard link of the data file).
   * Time checks cannot be sound (a pause can fall between the check and the
   * write), so the writer holds a SHARED lock on the data file for its whole
   * write and checks, once it holds it, that the file is not published (one
   * link, still at its path) and that its reservation still stands in the
   * database. The publisher takes the EXCLUSIVE lock before linking, so it
   * waits for writers in flight, and every writer that locks after it sees
   * the file published and stops. A writer that took a stale reservation over
   * first waits once for the EXCLUSIVE lock, so the bytes of a stalled
   * predecessor still holding its shared lock land before its own.
   */
  private async fenceWriter(uploadId: string, handle: FileHandle, fence: WriteFence): Promise<void> {
    if (fence.tookOver && !(await lockFile(handle, 'exclusive', TAKEOVER_WAIT_MS))) throw new StorageUnavailableError();
    if (!(await lockFile(handle, 'shared', LOCK_WAIT_MS))) throw new StorageUnavailableError();
    const stats = await handle.stat();
    if (stats.nlink > 1) throw new WriteFencedError('published');
    const current = await fs.stat(this.dataFile(uploadId)).catch(() => null);
    if (!current || current.ino !== stats.ino || current.dev !== stats.dev) throw new UploadNotFoundError();
    if (!(await fence.stillReserved())) throw new WriteFencedError('reservation-lost');
  }

  /**
   * Keeps the durable prefix of a source that ends early (a tus PATCH keeps
   * what arrived). With a `fence`, fenced exactly as `writeChunk()` is (the
   * shared lock held for the whole write, see `fenceWriter`), so a stalled
   * tus writer can neither write after a takeover nor into a published file.
   */
  override async writeAvailable(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence): Promise<AvailableWrite> {
    const handle = await this.openData(uploadId);
    let sink: PositionalWriter | undefined;
    const behind = this.writeBehind(handle);
    try {
      if (fence) await this.fenceWriter(uploadId, handle, fence);
      sink = new PositionalWriter(
        handle,
        offset,
        behind
          ? (bytes) => {
              behind.progress(bytes);
            }
          : undefined,
      );
      // Not pipeline(): it would destroy the sink and drop the bytes it still buffers.
      // A source that fails ends the sink instead, which writes out what arrived.
      const failure = await drainInto(source, sink, signal);
      await sink.idle();
      if (failure !== undefined && isFileSystemError(failure)) return rethrowStorage(failure);
      if (behind) await behind.settle().catch(rethrowStorage);
      if (this.fsync && sink.bytesWritten > 0) await this.syncs.sync(uploadId, handle).catch(rethrowStorage);
      return failure === undefined ? { bytes: sink.bytesWritten } : { bytes: sink.bytesWritten, error: failure };
    } finally {
      // Settle only once no write (nor early flush) of ours is in flight (the lock then goes with the handle).
      await sink?.idle();
      await behind?.idle();
      unlockFile(handle);
      await handle.close().catch(() => undefined);
    }
  }

  /** Flushing that overlaps the body's arrival (see `WriteBehind`), when chunks are flushed at all. */
  private writeBehind(handle: FileHandle): WriteBehind | null {
    return this.fsync ? new WriteBehind(handle, this.flushGate) : null;
  }

  private openData(uploadId: string) {
    return fs.open(this.dataFile(uploadId), constants.O_RDWR).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new UploadNotFoundError();
      return rethrowStorage(error);
    });
  }

  read(uploadId: string, start: number, end: number, readSize = 8 * 1024 * 1024): Readable {
    return createReadStream(this.dataFile(uploadId), { start, end, highWaterMark: readSize });
  }

  async publish(uploadId: string, name: string): Promise<PublishedFile | null> {
    const target = this.confined(name);
    await fs.mkdir(dirname(target), { recursive: true }).catch(rethrowStorage);
    const published =
      (await this.isOwnPublish(uploadId, target)) || (await this.linkNoClobber(uploadId, target)) || (await this.isOwnPublish(uploadId, target));
    if (!published) return null;
    if (this.fsync) await syncDirectory(dirname(target));
    return { relativePath: name, location: target };
  }

  /** The complete copy made for a publish across file systems, kept until `remove()` so a retry recognises its file. */
  private copyFile(uploadId: string): string {
    return join(this.assembledDir, `.frago-${uploadId}.copy`);
  }

  /** Where that copy is written before it is complete (a process killed mid-copy leaves it; the next try or `remove()` deletes it). */
  private partialCopyFile(uploadId: string): string {
    return join(this.assembledDir, `.frago-${uploadId}.tmp`);
  }

  /** True when `target` is this upload's data (a link to the data file or to its complete copy): an earlier publish of it. */
  private async isOwnPublish(uploadId: string, target: string): Promise<boolean> {
    const published = await fs.stat(target).catch(() => null);
    if (!published) return false;
    for (const own of [this.dataFile(uploadId), this.copyFile(uploadId)]) {
      const stats = await fs.stat(own).catch(() => null);
      if (stats && stats.dev === published.dev && stats.ino === published.ino) return true;
    }
    return false;
  }

  /**
   * Creates `target` as the complete file, or returns false if the name is
   * taken. Holds the data file's EXCLUSIVE lock meanwhile, so no writer is
   * writing while it links, and none writes after (see `fenceWriter`).
   */
  private async linkNoClobber(uploadId: string, target: string): Promise<boolean> {
    const handle = await this.openData(uploadId);
    try {
      if (!(await lockFile(handle, 'exclusive', LOCK_WAIT_MS))) throw new StorageUnavailableError();
      return await this.linkLocked(uploadId, target);
    } finally {
      unlockFile(handle);
      await handle.close().catch(() => undefined);
    }
  }

  private async linkLocked(uploadId: string, target: string): Promise<boolean> {
    try {
      await fs.link(this.dataFile(uploadId), target);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') return rethrowStorage(error);
    }
    // Different file system (or no hard links): one complete, durable copy in the assembled
    // folder under a name derived from the upload (so a retry finds it instead of copying
    // again or publishing a second copy), then linked to the target, which never overwrites.
    const copy = this.copyFile(uploadId);
    if (!(await fs.stat(copy).catch(() => null))) {
      const partial = this.partialCopyFile(uploadId);
      await fs.rm(partial, { force: true });
      await fs.copyFile(this.dataFile(uploadId), partial, constants.COPYFILE_EXCL).catch(rethrowStorage);
      const handle = await fs.open(partial, 'r+');
      await handle.datasync().finally(() => handle.close());
      await fs.rename(partial, copy);
    }
    try {
      await fs.link(copy, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      return rethrowStorage(error);
    }
  }

  private confined(relativePath: string): string {
    const target = resolve(this.assembledDir, relativePath);
    if (!target.startsWith(this.assembledDir + sep)) throw new Error('Refusing a path outside the assembled folder');
    return target;
  }

  async remove(uploadId: string): Promise<void> {
    await fs.rm(this.dataFile(uploadId), { force: true });
    await fs.rm(this.copyFile(uploadId), { force: true });
    await fs.rm(this.partialCopyFile(uploadId), { force: true });
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await fs.open(path, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/**
 * Pipes `source` into `sink` and resolves once the sink has written all it
 * received, with the source's failure (cut, abort) or undefined; rejects
 * when the sink fails.
 */
async function drainInto(source: Readable, sink: PositionalWriter, signal?: AbortSignal): Promise<unknown> {
  let failure: unknown;
  const stop = (error: unknown): void => {
    failure ??= error;
    source.unpipe(sink);
    sink.end();
  };
  const onAbort = (): void => {
    stop(signal?.reason ?? new Error('aborted'));
    source.destroy();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  finished(source).catch(stop);
  source.pipe(sink);
  try {
    await finished(sink);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return failure;
}

/** An error of the file system (not of the source stream). */
function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EDQUOT', 'EIO', 'EBADF', 'EROFS', 'ENOENT', 'EACCES', 'EPERM', 'EFBIG'].includes(code);
}

/** Maps a full disk to the domain error the filter answers with 507. */
function rethrowStorage(error: unknown): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new StorageFullError();
  throw error;
}
