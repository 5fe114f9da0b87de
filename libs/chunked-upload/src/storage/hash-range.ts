import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Bytes per positional read; two are used in turn, so the next read runs while the last one is hashed. */
const READ_SIZE = 4 * 1024 * 1024;
/** Bytes hashed between turns of the event loop, so other requests are not held up for a whole read. */
const HASH_SLICE = 1024 * 1024;

/**
 * Feeds bytes `[start, end]` (inclusive) of an open file to `hash`, in order.
 * Written for data just stored, read back from the page cache: a few large
 * positional reads into two reused buffers, each read waiting for a thread of
 * the file system pool only once per `READ_SIZE` (that pool also runs every
 * writer's writes and fdatasyncs), and the next read already running while
 * the previous buffer is hashed. Throws when the file ends before `end`.
 */
export async function hashFileRange(handle: FileHandle, start: number, end: number, hash: Hash): Promise<void> {
  const size = Math.min(READ_SIZE, end - start + 1);
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  const readAt = (turn: number, position: number): Promise<number> =>
    position > end ? Promise.resolve(0) : handle.read(buffers[turn % 2], 0, Math.min(size, end + 1 - position), position).then((result) => result.bytesRead);
  let position = start;
  let turn = 0;
  let reading = readAt(turn, position);
  try {
    while (position <= end) {
      const bytesRead = await reading;
      if (bytesRead === 0) throw Object.assign(new Error('the data file ends before the bytes to hash'), { code: 'ENODATA' });
      const buffer = buffers[turn % 2];
      position += bytesRead;
      turn++;
      reading = readAt(turn, position);
      for (let slice = 0; slice < bytesRead; slice += HASH_SLICE) {
        if (slice > 0) await yieldToLoop();
        hash.update(buffer.subarray(slice, Math.min(slice + HASH_SLICE, bytesRead)));
      }
    }
  } finally {
    // The caller may close the handle next: no read may still be running into a buffer.
    await reading.catch(() => undefined);
  }
}
