import type { Segment } from './s3-keys';

/** Bytes `[from, to]` (inclusive, offsets within the object) of one stored chunk object. */
export interface SourceRange {
  key: string;
  from: number;
  to: number;
}

/** One part of the published object's multipart upload. */
export type PlannedPart =
  /** Composed server-side: `UploadPartCopy` of one range of one chunk object. */
  | { kind: 'copy'; number: number; source: SourceRange; size: number }
  /** Too small to stand alone: the ranges are read back and sent as one `UploadPart`. */
  | { kind: 'stream'; number: number; sources: SourceRange[]; size: number };

const size = (range: SourceRange): number => range.to - range.from + 1;

/** S3's limits on a multipart upload: part numbers 1 to 10 000, parts of at most 5 GiB, objects of at most 5 TiB. */
export const MAX_PARTS = 10_000;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/**
 * The size every part but the last must reach so that `totalSize` bytes fit
 * in `maxParts` parts: at least `minPart`, and at least `totalSize / maxParts`.
 */
export function partFloor(totalSize: number, minPart: number, maxParts: number): number {
  return Math.max(minPart, Math.ceil(totalSize / maxParts));
}

/**
 * Plans the parts of the published object from its chunks, in order, in at
 * most `maxParts` parts (S3 allows 10 000): when the chunks are too many, the
 * floor below which a chunk is gathered with its neighbours rises from
 * `minPart` to `totalSize / maxParts`, so every part but the last holds at
 * least that many bytes. S3 wants
 * every part but the last to be at least `minPart` bytes, copied parts too
 * (on AWS, Ceph RGW and Swift alike), so: a chunk of at least `minPart` becomes a copied
 * part; smaller chunks are gathered into a streamed part until it reaches
 * `minPart`, taking from the next large chunk only the bytes it lacks when the
 * rest of that chunk can still be copied. A small last chunk is copied too. When
 * every chunk but the last is at least `minPart`, no byte passes through the
 * app.
 */
export function planParts(chain: Segment[], minPart: number, maxParts = MAX_PARTS): PlannedPart[] {
  const totalSize = chain.reduce((sum, segment) => sum + segment.end - segment.start + 1, 0);
  return planWithFloor(chain, partFloor(totalSize, minPart, maxParts));
}

function planWithFloor(chain: Segment[], minPart: number): PlannedPart[] {
  const parts: PlannedPart[] = [];
  let pending: SourceRange[] = [];
  let pendingSize = 0;
  const flush = (): void => {
    if (pendingSize === 0) return;
    parts.push({ kind: 'stream', number: parts.length + 1, sources: pending, size: pendingSize });
    pending = [];
    pendingSize = 0;
  };
  const copy = (source: SourceRange): void => {
    parts.push({ kind: 'copy', number: parts.length + 1, source, size: size(source) });
  };
  for (const [index, segment] of chain.entries()) {
    const base = segment.base ?? 0;
    const whole: SourceRange = { key: segment.key, from: base, to: base + segment.end - segment.start };
    const length = size(whole);
    const last = index === chain.length - 1;
    if (pendingSize === 0 && (length >= minPart || last)) {
      copy(whole);
      continue;
    }
    if (pendingSize > 0 && length >= minPart) {
      const lacking = Math.max(0, minPart - pendingSize);
      if (length - lacking >= minPart) {
        if (lacking > 0) pending.push({ key: segment.key, from: base, to: base + lacking - 1 });
        pendingSize += lacking;
        flush();
        copy({ key: segment.key, from: base + lacking, to: whole.to });
        continue;
      }
    }
    pending.push(whole);
    pendingSize += length;
    if (pendingSize >= minPart) flush();
  }
  flush();
  return parts;
}
