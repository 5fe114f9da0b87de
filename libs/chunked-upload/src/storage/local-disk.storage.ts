import type { Hash } from 'node:crypto';
import { constants, createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pump } from './pump';
import { StorageUnavailableError, UploadNotFoundError } from '../errors/frago.errors';
import { ChunkStorage, WriteFencedError, type AvailableWrite, type PublishedFile, type StoragePlacement, type WriteFence } from './chunk-storage';
import { DiskArenas } from './disk-arena';
import { isFileSystemError, rethrowStorage } from './disk-errors';
import { DiskPublisher } from './disk-publisher';
import { drainInto } from './drain-into';
import { lockFile, unlockFile } from './file-lock';
import { identityOf, OpenDataFiles } from './open-data-files';
import type { DataFileLease, FileIdentity } from './open-data-files';
import { concatenateFiles, syncFolder } from './concatenate-files';
import { PositionalWriter } from './positional-writer';
import { SyncBatcher } from './sync-batcher';
import { FlushGate, WriteBehind } from './write-behind';
import { hashFileRange } from './hash-range';

/** Longest wait for a data file lock held by writers or a publisher (then 503, retry). */
const LOCK_WAIT_MS = 10_000;
/** Longest wait, after a takeover, for a stalled predecessor's bytes to land (then 503, retry). */
const TAKEOVER_WAIT_MS = 30_000;

/**
 * Default backend: one sparse data file per upload under `chunkDir`, chunks
 * written at their offset (no chunk files, no copy at finalize), fsynced
 * before a chunk counts, and published into `assembledDir` with link(2), which
 * is atomic and fails rather than overwrite. Several instances may share the
 * folders (a shared volume). tus partial uploads created together share one
 * data file, side by side, so their concatenation is a rename (`DiskArenas`).
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
  private readonly arenas: DiskArenas;
  private readonly openFiles = new OpenDataFiles({ open: (uploadId) => this.openData(uploadId) });

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
    this.arenas = new DiskArenas({ chunkDir: this.chunkDir, fsync: this.fsync, dataFile: (uploadId) => this.dataFile(uploadId) });
  }

  override async init(): Promise<void> {
    await fs.mkdir(this.chunkDir, { recursive: true });
    await fs.mkdir(this.assembledDir, { recursive: true });
  }

  private dataFile(uploadId: string): string {
    return join(this.chunkDir, `${uploadId}.part`);
  }

  async create(uploadId: string, totalSize: number, placement?: StoragePlacement): Promise<void> {
    if (placement && totalSize > 0) return this.arenas.place(uploadId, totalSize, placement.group);
    const handle = await fs.open(this.dataFile(uploadId), 'wx').catch(rethrowStorage);
    try {
      await handle.truncate(totalSize).catch(rethrowStorage);
    } finally {
      await handle.close();
    }
  }

  async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence): Promise<number> {
    return this.withWriter(uploadId, offset, fence, async (sink, durable) => {
      await pump(source, sink, signal).catch(rethrowStorage);
      await durable();
      return sink.bytesWritten;
    });
  }

  /**
   * Runs one write: opens the data file, fences it (see `fenceWriter`) and
   * gives `write` a sink at `offset` and `durable()`, which resolves once
   * what the sink wrote is on disk (the write-behind flushes settled, then
   * one group-committed fdatasync, per data file). Settles only once no write (nor early
   * flush) of the sink is in flight, so the caller may then release the
   * range; the lock goes with the handle.
   */
  private async withWriter<T>(
    uploadId: string,
    offset: number,
    fence: WriteFence | undefined,
    write: (sink: PositionalWriter, durable: () => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const region = await this.arenas.regionOf(uploadId);
    const lease = await this.leaseData(uploadId, fence?.tookOver === true);
    const handle = lease.handle;
    let sink: PositionalWriter | undefined;
    let failed = true;
    const behind = this.fsync ? new WriteBehind(handle, this.flushGate) : null;
    const durable = async (): Promise<void> => {
      if (behind) await behind.settle().catch(rethrowStorage);
      // Uploads sharing one data file share its flushes too (one fdatasync covers every writer of the file).
      const key = region ? `file:${lease.identity.ino}` : uploadId;
      if (this.fsync) await this.syncs.sync(key, handle).catch(rethrowStorage);
    };
    try {
      if (fence) await this.fenceWriter(uploadId, handle, lease.identity, fence, region === null);
      const progress = behind ? (bytes: number): void => behind.progress(bytes) : undefined;
      sink = region ? new PositionalWriter(handle, region.base + offset, progress, region.base + region.size) : new PositionalWriter(handle, offset, progress);
      const result = await write(sink, durable);
      failed = false;
      return result;
    } finally {
      await sink?.idle();
      await behind?.idle();
      await lease.release(failed);
    }
  }

  /**
   * The data file for one write: the upload's descriptor shared with its other
   * writers in this process (`OpenDataFiles`), or, for a writer that took a
   * stale reservation over, a descriptor of its own: its wait for the
   * EXCLUSIVE lock must also wait for writers of this process.
   */
  private async leaseData(uploadId: string, tookOver: boolean): Promise<DataFileLease> {
    if (!tookOver) return this.openFiles.acquire(uploadId);
    const handle = await this.openData(uploadId);
    const identity = await identityOf(handle).catch(async (error: unknown) => {
      await handle.close().catch(() => undefined);
      throw error;
    });
    return {
      handle,
      identity,
      release: async () => {
        unlockFile(handle);
        await handle.close().catch(() => undefined);
      },
    };
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
   * predecessor still holding its shared lock land before its own. A data
   * file shared by partial uploads has one link per upload (`ownFile`
   * false); it is only published as a final upload's data, once all of
   * them are complete, when the reservation check refuses any writer.
   */
  private async fenceWriter(uploadId: string, handle: FileHandle, identity: FileIdentity, fence: WriteFence, ownFile: boolean): Promise<void> {
    if (fence.tookOver && !(await lockFile(handle, 'exclusive', TAKEOVER_WAIT_MS))) throw new StorageUnavailableError();
    if (!(await lockFile(handle, 'shared', LOCK_WAIT_MS))) throw new StorageUnavailableError();
    // Once the lock is held: the path still names the open file (same inode), so its link count is the open file's.
    const current = await fs.stat(this.dataFile(uploadId)).catch(() => null);
    if (!current || current.ino !== identity.ino || current.dev !== identity.dev) throw new UploadNotFoundError();
    if (ownFile && current.nlink > 1) throw new WriteFencedError('published');
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

  /**
   * tus concatenation: partials laid out side by side in one data file, in
   * the final's order and filling it, make that file the final's data by
   * rename (no byte copied); otherwise a first part with a file of its own
   * is renamed into place and the others are copied after it, or all are
   * copied (`concatenateFiles`).
   */
  override async concatenate(targetId: string, parts: ReadonlyArray<{ id: string; size: number }>, readSize?: number): Promise<number> {
    if (parts.length === 0 || parts.slice(1).some((part) => part.id === parts[0].id)) return super.concatenate(targetId, parts, readSize);
    try {
      const regions = await Promise.all(parts.map((part) => this.arenas.regionOf(part.id)));
      if (regions[0] !== null && (await this.adoptSharedFile(targetId, parts))) return parts.reduce((sum, part) => sum + part.size, 0);
      const files = parts.map((part, index) => ({ path: this.dataFile(part.id), size: part.size, start: regions[index]?.base ?? 0 }));
      const bytes = await concatenateFiles(this.dataFile(targetId), files, { sync: this.fsync, folder: this.chunkDir, moveFirst: regions[0] === null });
      if (regions[0] === null) await this.openFiles.forget(parts[0].id);
      return bytes;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      return rethrowStorage(error);
    }
  }

  /** The parts' shared data file becomes the final's when they fill it in order (`DiskArenas.close`); false otherwise. */
  private async adoptSharedFile(targetId: string, parts: ReadonlyArray<{ id: string; size: number }>): Promise<boolean> {
    const handle = await this.openData(parts[0].id);
    try {
      if (!(await this.arenas.close(parts, (await handle.stat()).size))) return false;
      // A writer still in flight (stalled) lands first; none starts later: the parts are complete, no reservation stands.
      if (!(await lockFile(handle, 'exclusive', LOCK_WAIT_MS))) throw new StorageUnavailableError();
      await fs.rename(this.dataFile(parts[0].id), this.dataFile(targetId));
      await this.openFiles.forget(parts[0].id);
      if (this.fsync) await syncFolder(this.chunkDir);
      return true;
    } finally {
      unlockFile(handle);
      await handle.close().catch(() => undefined);
    }
  }

  private openData(uploadId: string): Promise<FileHandle> {
    return fs.open(this.dataFile(uploadId), constants.O_RDWR).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      return rethrowStorage(error);
    });
  }

  read(uploadId: string, start: number, end: number, readSize = 8 * 1024 * 1024): Readable {
    const file = this.dataFile(uploadId);
    const arenas = this.arenas;
    return Readable.from(
      (async function* () {
        const base = (await arenas.regionOf(uploadId))?.base ?? 0;
        yield* createReadStream(file, { start: base + start, end: base + end, highWaterMark: readSize });
      })(),
      { objectMode: false, highWaterMark: readSize },
    );
  }

  /** Large positional reads of the data file (the page cache, for data just written): see `hashFileRange`. */
  override async hashRange(uploadId: string, start: number, end: number, hash: Hash): Promise<void> {
    const base = (await this.arenas.regionOf(uploadId))?.base ?? 0;
    const handle = await this.openData(uploadId);
    try {
      await hashFileRange(handle, base + start, base + end, hash);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** A region of a shared data file is published as a copy of its own bytes (see `DiskPublisher`). */
  async publish(uploadId: string, name: string): Promise<PublishedFile | null> {
    return this.publisher.publish(uploadId, name, await this.arenas.regionOf(uploadId));
  }

  async remove(uploadId: string): Promise<void> {
    await this.openFiles.forget(uploadId);
    await fs.rm(this.dataFile(uploadId), { force: true });
    await fs.rm(this.arenas.regionFile(uploadId), { force: true });
    this.arenas.forget(uploadId);
    await fs.rm(this.publisher.copyFile(uploadId), { force: true });
    await fs.rm(this.publisher.partialCopyFile(uploadId), { force: true });
  }
}
