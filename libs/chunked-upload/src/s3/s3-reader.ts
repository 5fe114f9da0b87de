import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { DirectParts } from './s3-direct';
import { coveringChain, type Segment } from './s3-keys';
import type { S3Objects } from './s3-objects';
import { retrying } from './s3-retry';
import type { SegmentIndex } from './s3-segments';
import type { SpoolCache } from './spool-cache';

/** Reading an upload's stored bytes back, from wherever they are: this process's spool cache, chunk objects, the sealed object. */
export class S3Reader {
  constructor(
    private readonly objects: S3Objects,
    private readonly segments: SegmentIndex,
    private readonly direct: DirectParts,
    private readonly cache: SpoolCache,
  ) {}

  /** Bytes `[start, end]` of the upload, in order, one GET ahead. Parts another process wrote are sealed first (only then readable). */
  async *bytes(uploadId: string, start: number, end: number): AsyncGenerator<Buffer> {
    let chain = coveringChain(await this.segments.covering(uploadId, start, end), start, end);
    if (chain.some((segment) => segment.part !== undefined && !this.cache.has(segment.key))) {
      await this.direct.seal(uploadId);
      this.segments.forget(uploadId);
      chain = coveringChain(await this.segments.list(uploadId), start, end);
    }
    let next = chain.length > 0 ? this.open(chain[0], start, end) : null;
    for (let i = 0; i < chain.length; i++) {
      const current = next as Promise<Readable>;
      next = i + 1 < chain.length ? this.open(chain[i + 1], start, end) : null;
      next?.catch(() => undefined);
      for await (const data of await current) yield data as Buffer;
    }
  }

  /** Bytes `[from, to]` of the object `key`: from the spool cache when this process stored it lately, else a GET. */
  async openRange(key: string, from: number, to: number): Promise<Readable> {
    const cached = this.cache.open(key, from, to);
    if (cached) return cached;
    const response = await retrying(() =>
      this.objects.client.send(new GetObjectCommand({ Bucket: this.objects.bucket, Key: key, Range: `bytes=${from}-${to}` })),
    );
    return response.Body as Readable;
  }

  /** The part of `segment` that lies in `[start, end]`. */
  private async open(segment: Segment, start: number, end: number): Promise<Readable> {
    const base = segment.base ?? 0;
    const from = base + Math.max(start, segment.start) - segment.start;
    const to = base + Math.min(end, segment.end) - segment.start;
    if (segment.part === undefined) return this.openRange(segment.key, from, to);
    const cached = this.cache.open(segment.key, from, to); // a part not sealed yet: only this process's copy can be read
    if (!cached) throw new Error(`S3ChunkStorage: part ${segment.part} is not readable before the upload is sealed`);
    return cached;
  }
}
