import type { FileHandle } from 'node:fs/promises';

interface FileSyncs {
  running: Promise<void> | null;
  /** The sync queued to start when `running` ends; it covers every write that finished meanwhile. */
  next: Promise<void> | null;
}

/**
 * Group commit for fdatasync: chunks of one upload written in parallel share
 * flushes instead of each paying for its own. A caller's writes are durable
 * once the sync it is given resolves: either one starting now, or the next one
 * after the sync in progress (which may have begun before those writes
 * finished). fdatasync flushes the file, whichever descriptor wrote the pages.
 */
export class SyncBatcher {
  private readonly files = new Map<string, FileSyncs>();

  /** Resolves once all writes to `key` that completed before this call are on disk. */
  sync(key: string, handle: FileHandle): Promise<void> {
    const state = this.files.get(key);
    if (!state) {
      const fresh: FileSyncs = { running: null, next: null };
      this.files.set(key, fresh);
      return this.run(key, fresh, handle);
    }
    state.next ??= (state.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        state.next = null;
        return this.run(key, state, handle);
      });
    return state.next;
  }

  private run(key: string, state: FileSyncs, handle: FileHandle): Promise<void> {
    const running: Promise<void> = handle.datasync().finally(() => {
      if (state.running === running && state.next === null) this.files.delete(key);
    });
    state.running = running;
    return running;
  }
}
