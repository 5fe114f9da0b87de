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

/**
 * Plans the parts of the published object from its chunks, in order. S3 wants
 * every part but the last to be at least `minPart` bytes, copied parts too
 * (on AWS, Ceph RGW and Swift alike), so: a chunk of at least `minPart` becomes a copied
 * part; smaller chunks are gathered into a streamed part until it reaches
 * `minPart`, taking from the next large chunk only the bytes it lacks when the
 * rest of that chunk can still be copied. A small last chunk is copied too. When
 * every chunk but the last is at least `minPart`, no byte passes through the
 * app.
 */
export function planParts(chain: Segment[], minPart: number): PlannedPart[] {
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
    const whole: SourceRange = { key: segment.key, from: 0, to: segment.end - segment.start };
    const length = size(whole);
    const last = index === chain.length - 1;
    if (pendingSize === 0 && (length >= minPart || last)) {
      copy(whole);
      continue;
    }
    if (pendingSize > 0 && length >= minPart) {
      const lacking = Math.max(0, minPart - pendingSize);
      if (length - lacking >= minPart) {
        if (lacking > 0) pending.push({ key: segment.key, from: 0, to: lacking - 1 });
        pendingSize += lacking;
        flush();
        copy({ key: segment.key, from: lacking, to: whole.to });
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
