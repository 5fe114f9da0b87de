import type { ByteRange } from '../protocol/wire.types';

/** Bytes received and gaps left, computed from ranges (not from a sum of sizes). */
export interface Coverage {
  receivedBytes: number;
  missing: ByteRange[];
}

/**
 * Byte coverage of `[0, totalSize - 1]` by inclusive ranges, which may be
 * unsorted or overlap: the union's length and the uncovered ranges.
 */
export function computeCoverage(ranges: readonly ByteRange[], totalSize: number): Coverage {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const missing: ByteRange[] = [];
  let next = 0; // first byte not yet known to be covered
  let received = 0;
  for (const { start, end } of sorted) {
    const from = Math.max(start, 0);
    const to = Math.min(end, totalSize - 1);
    if (to < next || from > to) continue; // already covered, or wholly outside [0, totalSize)
    if (from > next) missing.push({ start: next, end: from - 1 });
    received += to - Math.max(from, next) + 1;
    next = to + 1;
    if (next >= totalSize) break;
  }
  if (next < totalSize) missing.push({ start: next, end: totalSize - 1 });
  return { receivedBytes: received, missing };
}
