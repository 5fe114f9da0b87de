/**
 * Pure planning: which byte ranges make up the file, in file order, and which
 * of them must be sent. Chunks already on the server are still read so the
 * whole-file checksum covers every byte.
 */
import type { ByteRange } from './wire';

/** One piece of the file, with inclusive bounds as on the wire (`Content-Range`). */
export interface ChunkPlanItem {
  /** First byte offset (inclusive). */
  start: number;
  /** Last byte offset (inclusive). */
  end: number;
  /** False when the server already holds these bytes (read and hashed, not sent). */
  send: boolean;
}

/** Cuts `[start, end]` into pieces of at most `chunkSize` bytes. */
function cut(range: ByteRange, chunkSize: number, send: boolean): ChunkPlanItem[] {
  const items: ChunkPlanItem[] = [];
  for (let start = range.start; start <= range.end; start += chunkSize) {
    items.push({ start, end: Math.min(start + chunkSize - 1, range.end), send });
  }
  return items;
}

/** Checks that a chunk size is a positive integer, throwing a `RangeError` otherwise. */
export function assertChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
}

/** Plans a fresh upload of `total` bytes: every piece is sent. */
export function planFullUpload(total: number, chunkSize: number): ChunkPlanItem[] {
  assertChunkSize(chunkSize);
  return total > 0 ? cut({ start: 0, end: total - 1 }, chunkSize, true) : [];
}

/**
 * Plans a resumed upload: the `missing` ranges reported by the server are sent
 * (cut into `chunkSize` pieces); everything in between is read only, also in
 * `chunkSize` pieces so memory stays bounded. The result covers `[0, total)`
 * in order.
 */
export function planResume(total: number, missing: readonly ByteRange[], chunkSize: number): ChunkPlanItem[] {
  assertChunkSize(chunkSize);
  const sorted = [...missing].sort((a, b) => a.start - b.start);
  const items: ChunkPlanItem[] = [];
  let cursor = 0;
  for (const range of sorted) {
    const start = Math.max(range.start, cursor);
    const end = Math.min(range.end, total - 1);
    if (start > end) continue;
    if (start > cursor) items.push(...cut({ start: cursor, end: start - 1 }, chunkSize, false));
    items.push(...cut({ start, end }, chunkSize, true));
    cursor = end + 1;
  }
  if (cursor < total) items.push(...cut({ start: cursor, end: total - 1 }, chunkSize, false));
  return items;
}

/** Total bytes of the pieces that will be sent. */
export function bytesToSend(plan: readonly ChunkPlanItem[]): number {
  return plan.reduce((sum, item) => (item.send ? sum + item.end - item.start + 1 : sum), 0);
}
