import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** One source of a concatenation: `size` bytes of the file at `path`, from `start` on (0 unless told). */
export interface FilePart {
  path: string;
  size: number;
  start?: number;
}

/** Bytes per read/write of a copy, and copies running at once (each holds one buffer). */
const COPY_BUFFER = 2 * 1024 * 1024;
const COPIES_AT_ONCE = 3;
/** With `sync`, an fdatasync is started after every this many copied bytes, so the disk writes while the copy goes on. */
const FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Builds the file `target` out of `parts`, one after the other, on one file
 * system: with `moveFirst`, the first part's file becomes `target` by
 * rename(2) (its bytes are already where the result's begin, so none is
 * copied; it must start at 0), else `target` is written from empty; the file is cut or
 * extended to the total, and every other part is copied to its place with
 * positional reads and writes into one reused buffer per copy (no stream, no
 * allocation per read), a few copies at once. With `sync`, the result is
 * fdatasynced once at the end and `folder` (the chunk folder) synced, so
 * the rename is durable too. A moved first part's file is gone afterwards; the others stay.
 *
 * The caller makes sure nothing else writes `target` meanwhile (it holds the
 * database reservation of the whole range) and that the first part is not
 * repeated later in `parts` (its file is moved).
 */
export async function concatenateFiles(
  target: string,
  parts: readonly FilePart[],
  options: { sync: boolean; folder: string; bufferSize?: number; moveFirst?: boolean },
): Promise<number> {
  const moveFirst = options.moveFirst ?? true;
  const [first, ...rest] = moveFirst ? parts : [{ path: '', size: 0 }, ...parts];
  const total = parts.reduce((sum, part) => sum + part.size, 0);
  if (moveFirst) await fs.rename(first.path, target);
  const handle = await fs.open(target, moveFirst ? 'r+' : 'w');
  try {
    await handle.truncate(total);
    const flusher = new EarlyFlush(handle, options.sync);
    const copies: Array<() => Promise<void>> = [];
    let offset = first.size;
    for (const part of rest) {
      const at = offset;
      copies.push(() => copyInto(part, handle, at, options.bufferSize ?? COPY_BUFFER, flusher));
      offset += part.size;
    }
    await runAtMost(COPIES_AT_ONCE, copies).finally(() => flusher.idle());
    if (options.sync) {
      await handle.datasync();
      await syncFolder(options.folder);
    }
    return total;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Makes a rename or a new link in `folder` durable. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Copies `part.size` bytes of `part.path` (from `part.start`) to `target` at `offset`. */
async function copyInto(part: FilePart, target: FileHandle, offset: number, bufferSize: number, flusher: EarlyFlush): Promise<void> {
  const source = await fs.open(part.path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(Math.min(bufferSize, Math.max(part.size, 1)));
    const start = part.start ?? 0;
    let done = 0;
    while (done < part.size) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, part.size - done), start + done);
      if (bytesRead === 0) throw new Error(`${part.path} ended after ${done} of ${part.size} bytes`);
      let written = 0;
      while (written < bytesRead) {
        const result = await target.write(buffer, written, bytesRead - written, offset + done + written);
        written += result.bytesWritten;
      }
      done += bytesRead;
      flusher.copied(bytesRead);
    }
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** Runs `jobs`, at most `limit` at a time; rejects with the first failure once the running ones settled. */
async function runAtMost(limit: number, jobs: ReadonlyArray<() => Promise<void>>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]();
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Background fdatasyncs while a copy runs (one at a time); the caller's final fdatasync makes it all durable. */
class EarlyFlush {
  private pending = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly handle: FileHandle,
    private readonly enabled: boolean,
  ) {}

  copied(bytes: number): void {
    if (!this.enabled) return;
    this.pending += bytes;
    if (this.pending < FLUSH_EVERY || this.running) return;
    this.pending = 0;
    this.running = this.handle
      .datasync()
      .catch(() => undefined) // the final fdatasync reports a failure
      .then(() => {
        this.running = null;
      });
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
