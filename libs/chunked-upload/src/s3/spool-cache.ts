import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { READ_SIZE, type SpooledBody } from './spool';

interface Entry {
  body: SpooledBody;
  path: string;
}

/**
 * The spool files of chunks this process stored lately, kept (on local disk,
 * mostly in the page cache) up to `maxBytes`, least recently stored first
 * out. Reading a chunk back right after it was stored (the incremental
 * whole-file hash does that, and so does a finalize on the same instance)
 * then costs no GET. The bucket stays the truth: a key is only cached after
 * the bucket acknowledged exactly these bytes under it.
 */
export class SpoolCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Takes ownership of `body` (disposed when evicted). */
  keep(key: string, body: SpooledBody & { path: string }): boolean {
    if (this.maxBytes <= 0 || body.size > this.maxBytes) return false;
    this.drop(key);
    this.entries.set(key, { body, path: body.path });
    this.bytes += body.size;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.drop(oldest);
    }
    return true;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Bytes `[from, to]` of the cached object `key`, or null when it is not cached. */
  open(key: string, from: number, to: number): Readable | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    return createReadStream(entry.path, { start: from, end: to, highWaterMark: READ_SIZE });
  }

  /** Forgets every key starting with `prefix` (an upload's folder). */
  dropPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.drop(key);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.body.size;
    void entry.body.dispose().catch(() => undefined); // an open reader keeps its data (unlinked, not gone)
  }
}
