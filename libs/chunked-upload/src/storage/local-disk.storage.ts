import { constants, createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageUnavailableError, UploadNotFoundError } from '../errors/frago.errors';
import { ChunkStorage, WriteFencedError, type AvailableWrite, type PublishedFile, type WriteFence } from './chunk-storage';
import { isFileSystemError, rethrowStorage } from './disk-errors';
import { DiskPublisher } from './disk-publisher';
import { drainInto } from './drain-into';
import { lockFile, unlockFile } from './file-lock';
import { concatenateFiles } from './concatenate-files';
import { PositionalWriter } from './positional-writer';
import { SyncBatcher } from './sync-batcher';
import { FlushGate, WriteBehind } from './write-behind';

/** Longest wait for a data file lock held by writers or a publisher (then 503, retry). */
const LOCK_WAIT_MS = 10_000;
/** Longest wait, after a takeover, for a stalled predecessor's bytes to land (then 503, retry). */
const TAKEOVER_WAIT_MS = 30_000;

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
  private readonly publisher: DiskPublisher;

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
    this.publisher = new DiskPublisher({
      assembledDir: this.assembledDir,
      fsync: this.fsync,
      dataFile: (uploadId) => this.dataFile(uploadId),
      openData: (uploadId) => this.openData(uploadId),
      lockWaitMs: LOCK_WAIT_MS,
    });
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
    return this.withWriter(uploadId, offset, fence, async (sink, durable) => {
      await pipeline(source, sink, signal ? { signal } : {}).catch(rethrowStorage);
      await durable();
      return sink.bytesWritten;
    });
  }

  /**
   * Runs one write: opens the data file, fences it (see `fenceWriter`) and
   * gives `write` a sink at `offset` and `durable()`, which resolves once
   * what the sink wrote is on disk (the write-behind flushes settled, then
   * one group-committed fdatasync). Settles only once no write (nor early
   * flush) of the sink is in flight, so the caller may then release the
   * range; the lock goes with the handle.
   */
  private async withWriter<T>(
    uploadId: string,
    offset: number,
    fence: WriteFence | undefined,
    write: (sink: PositionalWriter, durable: () => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const handle = await this.openData(uploadId);
    let sink: PositionalWriter | undefined;
    const behind = this.fsync ? new WriteBehind(handle, this.flushGate) : null;
    const durable = async (): Promise<void> => {
      if (behind) await behind.settle().catch(rethrowStorage);
      if (this.fsync) await this.syncs.sync(uploadId, handle).catch(rethrowStorage);
    };
    try {
      if (fence) await this.fenceWriter(uploadId, handle, fence);
      sink = new PositionalWriter(handle, offset, behind ? (bytes) => behind.progress(bytes) : undefined);
      return await write(sink, durable);
    } finally {
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
    return this.withWriter(uploadId, offset, fence, async (sink, durable) => {
      const failure = await drainInto(source, sink, signal);
      await sink.idle();
      if (failure !== undefined && isFileSystemError(failure)) return rethrowStorage(failure);
      if (sink.bytesWritten > 0) await durable();
      return failure === undefined ? { bytes: sink.bytesWritten } : { bytes: sink.bytesWritten, error: failure };
    });
  }

  /** tus concatenation: the first part's data file is renamed into place, the others copied after it (`concatenateFiles`). */
  override async concatenate(targetId: string, parts: ReadonlyArray<{ id: string; size: number }>, readSize?: number): Promise<number> {
    if (parts.length === 0 || parts.slice(1).some((part) => part.id === parts[0].id)) return super.concatenate(targetId, parts, readSize);
    const files = parts.map((part) => ({ path: this.dataFile(part.id), size: part.size }));
    return concatenateFiles(this.dataFile(targetId), files, { sync: this.fsync, folder: this.chunkDir }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      return rethrowStorage(error);
    });
  }

  private openData(uploadId: string): Promise<FileHandle> {
    return fs.open(this.dataFile(uploadId), constants.O_RDWR).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      return rethrowStorage(error);
    });
  }

  read(uploadId: string, start: number, end: number, readSize = 8 * 1024 * 1024): Readable {
    return createReadStream(this.dataFile(uploadId), { start, end, highWaterMark: readSize });
  }

  publish(uploadId: string, name: string): Promise<PublishedFile | null> {
    return this.publisher.publish(uploadId, name);
  }

  async remove(uploadId: string): Promise<void> {
    await fs.rm(this.dataFile(uploadId), { force: true });
    await fs.rm(this.publisher.copyFile(uploadId), { force: true });
    await fs.rm(this.publisher.partialCopyFile(uploadId), { force: true });
  }
}
