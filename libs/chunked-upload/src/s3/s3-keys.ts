/** Zero-padded so that keys sort in byte order (ListObjectsV2 order). */
const OFFSET_DIGITS = 15;

/** Where bytes `[start, end]` (inclusive) of an upload are stored. */
export interface Segment {
  /** The object holding them (a chunk object, the upload's sealed object), or a part record. */
  key: string;
  start: number;
  end: number;
  /** Offset of byte `start` inside the object `key` (0 for a chunk object). */
  base?: number;
  /** Set for a part of the upload's open multipart upload: not readable from the bucket until sealed. */
  part?: number;
}

/**
 * Where S3ChunkStorage keeps things under its prefix. Published objects sit at
 * `<prefix><relative path>`, whose segments never start with a dot (they are
 * sanitised), so the staging area `<prefix>.frago/` can never collide with one.
 */
export class S3KeyLayout {
  readonly staging: string;
  readonly uploads: string;
  readonly names: string;

  constructor(readonly prefix: string) {
    this.staging = `${prefix}.frago/`;
    this.uploads = `${this.staging}uploads/`;
    this.names = `${this.staging}names/`;
  }

  /** Everything an upload stores before it is published. */
  uploadFolder(uploadId: string): string {
    return `${this.uploads}${uploadId}/`;
  }

  /** The marker `create()` writes: the upload exists (and its size). */
  uploadMarker(uploadId: string): string {
    return `${this.uploadFolder(uploadId)}upload`;
  }

  /** Where finalize records the key it composes to, so `remove()` can abort that multipart upload. */
  composeRecord(uploadId: string): string {
    return `${this.uploadFolder(uploadId)}compose`;
  }

  /** Where the upload's own multipart upload (parts written as chunks arrive) is completed ("sealed"). */
  object(uploadId: string): string {
    return `${this.uploadFolder(uploadId)}object`;
  }

  partFolder(uploadId: string): string {
    return `${this.uploadFolder(uploadId)}parts/`;
  }

  /** The record of a part written from chunk `[start, end]` whose MD5 (hex) is `md5`. */
  partRecord(uploadId: string, start: number, end: number, md5: string): string {
    return `${this.partFolder(uploadId)}${pad(start)}-${pad(end)}-${md5}`;
  }

  /** Parses a key listed under `partFolder(uploadId)`. */
  parsePartRecord(key: string, uploadId: string): { start: number; end: number; md5: string } | null {
    const match = /^(\d+)-(\d+)-([0-9a-f]{32})$/.exec(key.slice(this.partFolder(uploadId).length));
    if (!key.startsWith(this.partFolder(uploadId)) || !match) return null;
    return { start: Number(match[1]), end: Number(match[2]), md5: match[3] };
  }

  /** Which byte ranges the sealed object holds, for the completion whose ETag is `etag`. */
  sealRecord(uploadId: string, etag: string): string {
    return `${this.uploadFolder(uploadId)}sealed-${etag}`;
  }

  chunkFolder(uploadId: string): string {
    return `${this.uploadFolder(uploadId)}chunks/`;
  }

  chunk(uploadId: string, start: number, end: number): string {
    return `${this.chunkFolder(uploadId)}${pad(start)}-${pad(end)}`;
  }

  /** Parses a key listed under `chunkFolder(uploadId)`; null for anything else. */
  parseChunk(key: string, uploadId: string): Segment | null {
    const folder = this.chunkFolder(uploadId);
    if (!key.startsWith(folder)) return null;
    const match = /^(\d+)-(\d+)$/.exec(key.slice(folder.length));
    if (!match) return null;
    const start = Number(match[1]);
    const end = Number(match[2]);
    return end >= start ? { key, start, end } : null;
  }

  /** The upload a staging key belongs to, if any. */
  uploadOf(key: string): string | null {
    if (!key.startsWith(this.uploads)) return null;
    const id = key.slice(this.uploads.length).split('/')[0];
    return id || null;
  }

  published(relativePath: string): string {
    return `${this.prefix}${relativePath}`;
  }

  /** The claim marker of a published name (PutObject `If-None-Match: *` where the engine supports it). */
  nameMarker(relativePath: string): string {
    return `${this.names}${relativePath}`;
  }
}

function pad(n: number): string {
  return String(n).padStart(OFFSET_DIGITS, '0');
}

/** `bucket/key` for `x-amz-copy-source`, each path segment URL-encoded. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The stored segments that cover `[start, end]`, in order. Normally the
 * chunks do not overlap (the database refuses overlapping ranges); a chunk
 * object whose commit was lost can linger beside a later one with the same
 * start, so at each position the segment that continues the chain is chosen.
 * Throws when a byte of the range has no segment.
 */
export function coveringChain(segments: Segment[], start: number, end: number): Segment[] {
  const byStart = new Map<number, Segment[]>();
  for (const segment of segments) {
    const list = byStart.get(segment.start) ?? [];
    list.push(segment);
    byStart.set(segment.start, list);
  }
  const chain: Segment[] = [];
  let position = start;
  let first = segments.filter((s) => s.start <= start && s.end >= start);
  while (position <= end) {
    const options = chain.length === 0 ? first : (byStart.get(position) ?? []);
    if (options.length === 0) throw new Error(`No stored chunk holds byte ${position}`);
    const next = options.find((s) => s.end >= end || byStart.has(s.end + 1)) ?? options.reduce((a, b) => (a.end >= b.end ? a : b));
    chain.push(next);
    position = next.end + 1;
    first = [];
  }
  return chain;
}
