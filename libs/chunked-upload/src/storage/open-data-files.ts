import type { FileHandle } from 'node:fs/promises';
import { rethrowStorage } from './disk-errors';
import { unlockFile } from './file-lock';

/** Which file a descriptor has open: its inode, read once when it was opened. */
export interface FileIdentity {
  ino: number;
  dev: number;
}

/** One data file's descriptor, shared by the writers of its upload in this process. */
interface Entry {
  opening: Promise<FileHandle>;
  identity: Promise<FileIdentity>;
  /** Writers holding it now. */
  users: number;
  /** When the last writer let go (for the idle sweep). */
  idleSince: number;
  /** Closed at the last release instead of kept (removed upload, failed write). */
  doomed: boolean;
}

/** A writer's use of a shared descriptor; `release()` exactly once. */
export interface DataFileLease {
  readonly handle: FileHandle;
  /** The inode the descriptor has open (a file's inode never changes while it is open). */
  readonly identity: FileIdentity;
  /** `failed`: the write failed, so the descriptor is not kept for the next one. */
  release(failed?: boolean): Promise<void>;
}

export interface OpenDataFilesOptions {
  /** Opens an upload's data file read-write (throws the storage's errors). */
  open(uploadId: string): Promise<FileHandle>;
  /** Idle descriptors kept at most. @default 64 */
  maxIdle?: number;
  /** An idle descriptor is closed after this long. @default 2000 */
  idleMs?: number;
}

/**
 * Keeps each upload's data file open across its chunks instead of an open and
 * a close per chunk (two round trips through libuv's thread pool). Writers of
 * one upload in this process share one descriptor, so one open file
 * description: its shared OFD lock (taken by each writer, a no-op once held)
 * is released when the last writer lets go, so a publisher or a takeover
 * (which open their own descriptor and wait for the EXCLUSIVE lock) sees no
 * lock from an idle descriptor. Every writer still checks, under the lock,
 * that the file is at its path and unpublished. A removed upload's descriptor
 * is closed at once (or at its last writer's release), so a deleted file's
 * blocks are not held; idle ones close after `idleMs`.
 */
/** The inode of an open file (fstat), or the storage's error. */
export async function identityOf(handle: FileHandle): Promise<FileIdentity> {
  const stats = await handle.stat().catch(rethrowStorage);
  return { ino: stats.ino, dev: stats.dev };
}

export class OpenDataFiles {
  private readonly entries = new Map<string, Entry>();
  private readonly maxIdle: number;
  private readonly idleMs: number;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly options: OpenDataFilesOptions) {
    this.maxIdle = options.maxIdle ?? 64;
    this.idleMs = options.idleMs ?? 2000;
  }

  async acquire(uploadId: string): Promise<DataFileLease> {
    let entry = this.entries.get(uploadId);
    if (entry === undefined) {
      const opening = this.options.open(uploadId);
      const fresh: Entry = { opening, identity: opening.then(identityOf), users: 0, idleSince: 0, doomed: false };
      entry = fresh;
      this.entries.set(uploadId, fresh);
      fresh.identity.catch(() => {
        if (this.entries.get(uploadId) === fresh) this.entries.delete(uploadId);
      });
    }
    entry.users++;
    let handle: FileHandle;
    let identity: FileIdentity;
    try {
      [handle, identity] = await Promise.all([entry.opening, entry.identity]);
    } catch (error) {
      entry.users--;
      throw error;
    }
    const held = entry;
    let released = false;
    return {
      handle,
      identity,
      release: (failed = false) => {
        if (released) return Promise.resolve();
        released = true;
        return this.release(uploadId, held, handle, failed);
      },
    };
  }

  /** Closes the upload's descriptor now if idle, else at its last writer's release. */
  async forget(uploadId: string): Promise<void> {
    const entry = this.entries.get(uploadId);
    if (entry === undefined) return;
    entry.doomed = true;
    if (entry.users === 0) await this.close(uploadId, entry);
  }

  private async release(uploadId: string, entry: Entry, handle: FileHandle, failed: boolean): Promise<void> {
    entry.users--;
    if (failed) entry.doomed = true;
    if (entry.users > 0) return;
    // The last writer of this descriptor: its shared lock goes, whoever took it.
    unlockFile(handle);
    if (entry.doomed || this.entries.get(uploadId) !== entry) {
      await this.close(uploadId, entry);
      return;
    }
    entry.idleSince = Date.now();
    this.startSweeper();
    await this.trim();
  }

  /** Closes an idle descriptor; one in use is closed by its last writer's release instead. */
  private async close(uploadId: string, entry: Entry): Promise<void> {
    if (entry.users > 0) {
      entry.doomed = true;
      return;
    }
    if (this.entries.get(uploadId) === entry) this.entries.delete(uploadId);
    const handle = await entry.opening.catch(() => null);
    await handle?.close().catch(() => undefined);
  }

  /** Over `maxIdle` idle descriptors, the longest idle ones close. */
  private async trim(): Promise<void> {
    const idle = [...this.entries].filter(([, entry]) => entry.users === 0);
    if (idle.length <= this.maxIdle) return;
    idle.sort((a, b) => a[1].idleSince - b[1].idleSince);
    for (const [uploadId, entry] of idle.slice(0, idle.length - this.maxIdle)) await this.close(uploadId, entry);
  }

  private startSweeper(): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(() => {
      const now = Date.now();
      let idleLeft = false;
      for (const [uploadId, entry] of [...this.entries]) {
        if (entry.users > 0) continue;
        if (now - entry.idleSince >= this.idleMs) void this.close(uploadId, entry);
        else idleLeft = true;
      }
      // A descriptor that becomes idle later starts the sweep again.
      if (!idleLeft && this.sweeper !== null) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    }, this.idleMs);
    this.sweeper.unref();
  }
}
