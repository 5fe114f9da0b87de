import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { StorageUnavailableError } from '../errors/frago.errors';
import type { PublishedFile } from './chunk-storage';
import { concatenateFiles } from './concatenate-files';
import type { Region } from './disk-arena';
import { rethrowStorage } from './disk-errors';
import { lockFile, unlockFile } from './file-lock';

/** Where the local disk backend keeps an upload's data and what it needs to publish it. */
export interface DiskLayout {
  assembledDir: string;
  fsync: boolean;
  dataFile(uploadId: string): string;
  openData(uploadId: string): Promise<FileHandle>;
  lockWaitMs: number;
}

/**
 * Publishes a data file into the assembled folder with link(2), which is
 * atomic and fails rather than overwrite; across file systems, or for an
 * upload that is a region of a shared data file (`DiskArenas`), through one
 * durable copy named after the upload (so a retry finds it).
 */
export class DiskPublisher {
  constructor(private readonly layout: DiskLayout) {}

  async publish(uploadId: string, name: string, region: Region | null = null): Promise<PublishedFile | null> {
    const target = this.confined(name);
    await fs.mkdir(dirname(target), { recursive: true }).catch(rethrowStorage);
    const published =
      (await this.isOwnPublish(uploadId, target)) || (await this.linkNoClobber(uploadId, target, region)) || (await this.isOwnPublish(uploadId, target));
    if (!published) return null;
    if (this.layout.fsync) await syncDirectory(dirname(target));
    return { relativePath: name, location: target };
  }

  /** The complete copy made for a publish across file systems, kept until `remove()` so a retry recognises its file. */
  copyFile(uploadId: string): string {
    return join(this.layout.assembledDir, `.frago-${uploadId}.copy`);
  }

  /** Where that copy is written before it is complete (a process killed mid-copy leaves it; the next try or `remove()` deletes it). */
  partialCopyFile(uploadId: string): string {
    return join(this.layout.assembledDir, `.frago-${uploadId}.tmp`);
  }

  /** True when `target` is this upload's data (a link to the data file or to its complete copy): an earlier publish of it. */
  private async isOwnPublish(uploadId: string, target: string): Promise<boolean> {
    const published = await fs.stat(target).catch(() => null);
    if (!published) return false;
    for (const own of [this.layout.dataFile(uploadId), this.copyFile(uploadId)]) {
      const stats = await fs.stat(own).catch(() => null);
      if (stats && stats.dev === published.dev && stats.ino === published.ino) return true;
    }
    return false;
  }

  /**
   * Creates `target` as the complete file, or returns false if the name is
   * taken. Holds the data file's EXCLUSIVE lock meanwhile, so no writer is
   * writing while it links, and none writes after (see the storage's fencing).
   */
  private async linkNoClobber(uploadId: string, target: string, region: Region | null): Promise<boolean> {
    const handle = await this.layout.openData(uploadId);
    try {
      if (!(await lockFile(handle, 'exclusive', this.layout.lockWaitMs))) throw new StorageUnavailableError();
      return await this.linkLocked(uploadId, target, region);
    } finally {
      unlockFile(handle);
      await handle.close().catch(() => undefined);
    }
  }

  private async linkLocked(uploadId: string, target: string, region: Region | null): Promise<boolean> {
    const dataFile = this.layout.dataFile(uploadId);
    // A region of a shared file is published as a copy of its bytes alone (the file holds other uploads' too).
    if (region === null) {
      try {
        await fs.link(dataFile, target);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') return rethrowStorage(error);
      }
    }
    // Different file system (or no hard links): one complete, durable copy in the assembled
    // folder under a name derived from the upload (so a retry finds it instead of copying
    // again or publishing a second copy), then linked to the target, which never overwrites.
    const copy = this.copyFile(uploadId);
    if (!(await fs.stat(copy).catch(() => null))) {
      const partial = this.partialCopyFile(uploadId);
      await fs.rm(partial, { force: true });
      if (region === null) {
        await fs.copyFile(dataFile, partial, constants.COPYFILE_EXCL).catch(rethrowStorage);
        const handle = await fs.open(partial, 'r+');
        await handle.datasync().finally(() => handle.close());
      } else {
        const part = { path: dataFile, start: region.base, size: region.size };
        await concatenateFiles(partial, [part], { sync: true, folder: this.layout.assembledDir, moveFirst: false }).catch(rethrowStorage);
      }
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
    const target = resolve(this.layout.assembledDir, relativePath);
    if (!target.startsWith(this.layout.assembledDir + sep)) throw new Error('Refusing a path outside the assembled folder');
    return target;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await fs.open(path, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
