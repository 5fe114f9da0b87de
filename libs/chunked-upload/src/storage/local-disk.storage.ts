import { constants, createReadStream, promises as fs } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { ChunkStorage, type AvailableWrite, type PublishedFile } from './chunk-storage';
import { PositionalWriter } from './positional-writer';
import { SyncBatcher } from './sync-batcher';
import { StorageFullError, UploadNotFoundError } from '../errors/frago.errors';

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

  async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal): Promise<number> {
    const handle = await this.openData(uploadId);
    try {
      const sink = new PositionalWriter(handle, offset);
      await pipeline(source, sink, signal ? { signal } : {}).catch(rethrowStorage);
      if (this.fsync) await this.syncs.sync(uploadId, handle).catch(rethrowStorage);
      return sink.bytesWritten;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** Keeps the durable prefix of a source that ends early (tus PATCH, SPEC §11). */
  override async writeAvailable(uploadId: string, offset: number, source: Readable, signal?: AbortSignal): Promise<AvailableWrite> {
    const handle = await this.openData(uploadId);
    try {
      const sink = new PositionalWriter(handle, offset);
      // Not pipeline(): it would destroy the sink and drop the bytes it still buffers.
      // A source that fails ends the sink instead, which writes out what arrived.
      const failure = await drainInto(source, sink, signal);
      await sink.idle();
      if (failure !== undefined && isFileSystemError(failure)) return rethrowStorage(failure);
      if (this.fsync && sink.bytesWritten > 0) await this.syncs.sync(uploadId, handle).catch(rethrowStorage);
      return failure === undefined ? { bytes: sink.bytesWritten } : { bytes: sink.bytesWritten, error: failure };
    } finally {
      await handle.close().catch(() => undefined);
    }
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

  async publish(uploadId: string, candidates: Iterable<string>): Promise<PublishedFile> {
    const source = this.dataFile(uploadId);
    for (const relativePath of candidates) {
      const target = this.confined(relativePath);
      await fs.mkdir(dirname(target), { recursive: true }).catch(rethrowStorage);
      const linked = await this.linkNoClobber(source, target);
      if (!linked && !(await sameFile(source, target))) continue;
      if (this.fsync) await syncDirectory(dirname(target));
      return { relativePath, location: target };
    }
    throw new Error('No free name to publish the assembled file under');
  }

  /** Creates `target` as the complete file, or returns false if the name is taken. */
  private async linkNoClobber(source: string, target: string): Promise<boolean> {
    try {
      await fs.link(source, target);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') return rethrowStorage(error);
    }
    // Different file system (or no hard links): copy beside the target, then link.
    const temporary = join(dirname(target), `.frago-${randomUUID()}.tmp`);
    try {
      await fs.copyFile(source, temporary, constants.COPYFILE_EXCL).catch(rethrowStorage);
      const handle = await fs.open(temporary, 'r+');
      await handle.datasync().finally(() => handle.close());
      await fs.link(temporary, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await fs.unlink(temporary).catch(() => undefined);
    }
  }

  private confined(relativePath: string): string {
    const target = resolve(this.assembledDir, relativePath);
    if (!target.startsWith(this.assembledDir + sep)) throw new Error('Refusing a path outside the assembled folder');
    return target;
  }

  async remove(uploadId: string): Promise<void> {
    await fs.rm(this.dataFile(uploadId), { force: true });
  }
}

/** True when `target` is a link to `source` (published by an earlier, interrupted finalize). */
async function sameFile(source: string, target: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(source).catch(() => null), fs.stat(target).catch(() => null)]);
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino;
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
