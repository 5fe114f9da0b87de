import { coveringChain, type S3KeyLayout, type Segment } from './s3-keys';
import type { S3Objects } from './s3-objects';

const MAX_TRACKED_UPLOADS = 10_000;

/**
 * Which chunk objects an upload has: the ones this process stored (saves a
 * listing when reading them back), else a listing of the upload's chunk
 * folder, which is the truth shared by every instance.
 */
export class SegmentIndex {
  private readonly known = new Map<string, Map<number, Segment>>();

  constructor(
    private readonly objects: S3Objects,
    private readonly keys: S3KeyLayout,
    /** Segments stored elsewhere than in chunk objects (parts, the sealed object). */
    private readonly more: (uploadId: string) => Promise<Segment[]>,
  ) {}

  remember(uploadId: string, segment: Segment): void {
    let segments = this.known.get(uploadId);
    if (!segments) {
      if (this.known.size >= MAX_TRACKED_UPLOADS) this.known.delete(this.known.keys().next().value as string);
      segments = new Map();
      this.known.set(uploadId, segments);
    }
    segments.set(segment.start, segment);
  }

  forget(uploadId: string): void {
    this.known.delete(uploadId);
  }

  /** The segments to read `[start, end]` from: the ones this process wrote when they cover it, else a listing. */
  async covering(uploadId: string, start: number, end: number): Promise<Segment[]> {
    const known = [...(this.known.get(uploadId)?.values() ?? [])];
    try {
      coveringChain(known, start, end);
      return known;
    } catch {
      return this.list(uploadId);
    }
  }

  /** Every chunk object stored for `uploadId`, by any instance. */
  async list(uploadId: string): Promise<Segment[]> {
    const segments: Segment[] = [];
    for await (const object of this.objects.list(this.keys.chunkFolder(uploadId))) {
      const segment = this.keys.parseChunk(object.Key ?? '', uploadId);
      if (segment) segments.push(segment);
    }
    // Chunk objects first: where one ties with a part for the same range, it is the later write
    // (after a seal, or by a writer that took over a stale reservation).
    return [...segments, ...(await this.more(uploadId))];
  }
}
