import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { rethrowStorage } from './disk-errors';
import { syncFolder } from './concatenate-files';

/** Where an upload's bytes sit in a data file it shares with others: `size` bytes from `base` on. */
export interface Region {
  base: number;
  size: number;
}

/** How long after its first member a shared file still takes new ones, and how many it takes. */
const JOIN_WINDOW_MS = 2_000;
const MAX_MEMBERS = 64;
/** Uploads whose placement this process remembers. */
const MAX_KNOWN = 10_000;

/** A shared data file this process lays partial uploads out in, one after the other. */
interface Arena {
  members: string[];
  ino: number;
  next: number;
  openedAt: number;
  closed: boolean;
}

/** What the arenas need of the local disk backend. */
export interface ArenaLayout {
  chunkDir: string;
  fsync: boolean;
  dataFile(uploadId: string): string;
}

/**
 * Side-by-side placement of tus partial uploads on local disk, so that their
 * final concatenation needs no copy. The partials a client creates together
 * (same group, within a short window, in this process) share one data file:
 * each upload's `<id>.part` is a hard link to it (the file lives while any of
 * them does, whatever order they are removed in), and its region, where its
 * bytes start, is kept in `<id>.region` beside it, written before the link.
 * When a final upload lists them in the order they were laid out and they
 * fill the file exactly, the file becomes the final upload's data by rename.
 * Any other order, or an upload placed by another process, is concatenated by
 * copying (always correct; only slower).
 *
 * Only the process that laid a file out adds to it, under one lock that the
 * concatenation takes too (`close`), so no region is added to a file after it
 * became a final upload's data.
 */
export class DiskArenas {
  private readonly open = new Map<string, Arena>();
  private readonly arenaOf = new Map<string, Arena>();
  /** Regions this process knows, and null for uploads it knows have a data file of their own (decided at creation, for good). */
  private readonly regions = new Map<string, Region | null>();
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly layout: ArenaLayout) {}

  /** Creates the data of a partial upload of `size` bytes: a region after the others of its group, or a new file. */
  place(uploadId: string, size: number, group: string): Promise<void> {
    return this.exclusively(async () => {
      if (this.open.size > 256) for (const [key, open] of this.open) if (Date.now() - open.openedAt > JOIN_WINDOW_MS) this.open.delete(key);
      let arena = this.open.get(group);
      if (arena && (arena.closed || arena.members.length >= MAX_MEMBERS || Date.now() - arena.openedAt > JOIN_WINDOW_MS)) {
        this.open.delete(group);
        arena = undefined;
      }
      if (arena && (await this.join(arena, uploadId, size))) return;
      this.open.set(group, await this.start(uploadId, size));
    });
  }

  /** The upload's region when it shares a data file; null for a data file of its own. */
  async regionOf(uploadId: string): Promise<Region | null> {
    const known = this.regions.get(uploadId);
    if (known !== undefined) return known;
    const text = await fs.readFile(this.regionFile(uploadId), 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return rethrowStorage(error);
    });
    const [base, size] = (text ?? '').split(' ').map(Number);
    if (text !== null && (!Number.isSafeInteger(base) || !Number.isSafeInteger(size))) throw new Error(`${this.regionFile(uploadId)} is not a region`);
    const region = text === null ? null : { base, size };
    // A region file is written before the upload's data file exists, so an upload with data and no region file never gets one.
    if (this.regions.size >= MAX_KNOWN) this.regions.delete(this.regions.keys().next().value as string);
    this.regions.set(uploadId, region);
    return region;
  }

  /**
   * True when `parts`, in this order, are the regions of one file this
   * process laid out, from its first byte to its last: the file then takes
   * no new region (closed) and may become the final upload's data as it is.
   */
  close(parts: ReadonlyArray<{ id: string; size: number }>, fileSize: number): Promise<boolean> {
    return this.exclusively(async () => {
      const arena = this.arenaOf.get(parts[0].id);
      if (!arena || arena.closed) return false;
      let base = 0;
      for (const part of parts) {
        const region = await this.regionOf(part.id);
        if (this.arenaOf.get(part.id) !== arena || region?.base !== base || region.size !== part.size) return false;
        base += part.size;
      }
      if (base !== fileSize) return false;
      arena.closed = true;
      return true;
    });
  }

  /** Forgets a removed upload (its link and region file are gone). */
  forget(uploadId: string): void {
    this.regions.delete(uploadId);
    this.arenaOf.delete(uploadId);
  }

  regionFile(uploadId: string): string {
    return join(this.layout.chunkDir, `${uploadId}.region`);
  }

  private async start(uploadId: string, size: number): Promise<Arena> {
    await this.writeRegion(uploadId, { base: 0, size });
    const handle = await fs.open(this.layout.dataFile(uploadId), 'wx').catch(async (error: unknown) => {
      await fs.rm(this.regionFile(uploadId), { force: true });
      this.regions.delete(uploadId);
      return rethrowStorage(error);
    });
    try {
      await handle.truncate(size).catch(rethrowStorage);
      const arena: Arena = { members: [uploadId], ino: (await handle.stat()).ino, next: size, openedAt: Date.now(), closed: false };
      this.arenaOf.set(uploadId, arena);
      return arena;
    } finally {
      await handle.close();
    }
  }

  /** Links the upload into the arena's file after its last region; false when no member's link is left to link to. */
  private async join(arena: Arena, uploadId: string, size: number): Promise<boolean> {
    const region = { base: arena.next, size };
    await this.writeRegion(uploadId, region);
    const target = this.layout.dataFile(uploadId);
    for (const member of [...arena.members].reverse()) {
      const linked = await fs.link(this.layout.dataFile(member), target).then(
        () => true,
        (error: unknown) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? false : rethrowStorage(error)),
      );
      if (!linked) continue;
      const handle = await fs.open(target, 'r+').catch(rethrowStorage);
      try {
        // A member's link that now names another file (published alone, see `detach`) is not this arena.
        if ((await handle.stat()).ino !== arena.ino) {
          await fs.rm(target, { force: true });
          continue;
        }
        await handle.truncate(region.base + size).catch(rethrowStorage);
      } finally {
        await handle.close();
      }
      if (this.layout.fsync) await syncFolder(this.layout.chunkDir);
      arena.members.push(uploadId);
      arena.next = region.base + size;
      this.arenaOf.set(uploadId, arena);
      return true;
    }
    await fs.rm(this.regionFile(uploadId), { force: true });
    this.regions.delete(uploadId);
    return false;
  }

  private async writeRegion(uploadId: string, region: Region): Promise<void> {
    const handle = await fs.open(this.regionFile(uploadId), 'w').catch(rethrowStorage);
    try {
      await handle.writeFile(`${region.base} ${region.size}`).catch(rethrowStorage);
      if (this.layout.fsync) await handle.datasync().catch(rethrowStorage);
    } finally {
      await handle.close();
    }
    this.regions.set(uploadId, region);
  }

  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work, work);
    this.serial = run.catch(() => undefined);
    return run;
  }
}
