import { createHash } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { UploadNotFoundError } from '../errors/frago.errors';
import { codeOf, isNotFound } from './s3-client';
import type { S3KeyLayout, Segment } from './s3-keys';
import type { S3Objects } from './s3-objects';
import { retrying, unavailable } from './s3-retry';
import type { ChunkBody } from './chunk-body';

/** What the upload marker records: the size, and the upload's own multipart upload with its part grid. */
export interface UploadInfo {
  totalSize: number;
  multipart?: string;
  /** Chunks starting at a multiple of this become part `start / grid + 1`. */
  grid?: number;
}

interface ValidPart {
  number: number;
  etag: string;
  size: number;
  ranges: { start: number; end: number }[];
}

const MiB = 1024 * 1024;
const MAX_TRACKED_UPLOADS = 10_000;

/**
 * Chunks written straight into parts of one multipart upload per upload (at
 * `<upload folder>/object`), so that publishing a well-chunked upload needs
 * only a CompleteMultipartUpload and one CopyObject, which the engines do
 * without copying the bytes, instead of an UploadPartCopy of every byte.
 * A chunk starting on the upload's grid, of at least the part minimum (or
 * ending the upload), becomes part `start / grid + 1`; its record
 * `parts/<start>-<end>-<md5>` is written first. A part counts only while S3
 * still holds exactly the recorded bytes there (same size and MD5 ETag), so a
 * part re-written by another chunk never passes for the first one. Parts
 * cannot be read before completion: sealing completes the multipart upload
 * and records which byte ranges the object holds, under the completion's
 * ETag (computable beforehand), so that whichever of two sealers wins,
 * readers find the matching record. Later chunks fall back to chunk objects.
 */
export class DirectParts {
  private readonly infos = new Map<string, UploadInfo>();

  constructor(
    private readonly objects: S3Objects,
    private readonly keys: S3KeyLayout,
    private readonly settings: { minPart: number; maxParts: number },
  ) {}

  /** For create(): opens the upload's multipart upload (none for an upload of unknown length). */
  async open(uploadId: string, totalSize: number): Promise<UploadInfo> {
    if (totalSize <= 0) return { totalSize };
    let grid = MiB;
    while (grid * this.settings.maxParts < totalSize) grid *= 2;
    const created = await retrying(() =>
      this.objects.client.send(new CreateMultipartUploadCommand({ Bucket: this.objects.bucket, Key: this.keys.object(uploadId) })),
    );
    return { totalSize, multipart: created.UploadId, grid };
  }

  remember(uploadId: string, info: UploadInfo): void {
    if (this.infos.size >= MAX_TRACKED_UPLOADS) this.infos.delete(this.infos.keys().next().value as string);
    this.infos.set(uploadId, info);
  }

  forget(uploadId: string): void {
    this.infos.delete(uploadId);
  }

  /** The upload's marker (cached per process); UploadNotFoundError when there is none. */
  async info(uploadId: string): Promise<UploadInfo> {
    const known = this.infos.get(uploadId);
    if (known) return known;
    const body = await this.objects.text(this.keys.uploadMarker(uploadId));
    if (body === null) throw new UploadNotFoundError();
    const info = JSON.parse(body) as UploadInfo;
    this.remember(uploadId, info);
    return info;
  }

  /** The part a chunk of `size` bytes at `start` goes to, or null when it must be a chunk object. */
  partNumber(info: UploadInfo, start: number, size: number): number | null {
    if (!info.multipart || !info.grid || start % info.grid !== 0) return null;
    if (size < this.settings.minPart && start + size !== info.totalSize) return null;
    const number = start / info.grid + 1;
    return number <= this.settings.maxParts ? number : null;
  }

  /**
   * Stores `body` as part `number` with its Content-MD5 (the server verifies
   * it). Rejects with S3's 404 once the multipart upload is sealed or aborted
   * (the upload was removed): nothing of the chunk is then kept.
   */
  async write(uploadId: string, info: UploadInfo, number: number, start: number, body: ChunkBody, signal?: AbortSignal): Promise<Segment> {
    const end = start + body.size - 1;
    const record = this.keys.partRecord(uploadId, start, end, Buffer.from(body.md5, 'base64').toString('hex'));
    const { client, bucket } = this.objects;
    await retrying(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: record, Body: '', ContentLength: 0 })), signal);
    try {
      const Key = this.keys.object(uploadId);
      const input = { Bucket: bucket, Key, UploadId: info.multipart, PartNumber: number, ContentLength: body.size, ContentMD5: body.md5 };
      await body.send((Body, abortSignal) => client.send(new UploadPartCommand({ ...input, Body }), { abortSignal }));
    } catch (error) {
      await this.objects.delete(record).catch(() => undefined);
      throw error;
    }
    return { key: record, start, end, part: number };
  }

  /** Where the parts' bytes are: ranges of the sealed object, or the parts that hold their records' bytes. */
  async segments(uploadId: string): Promise<Segment[]> {
    const sealed = await this.sealedSegments(uploadId);
    if (sealed) return sealed;
    const parts = await this.validParts(uploadId, await this.info(uploadId));
    return parts.flatMap((part) =>
      part.ranges.map(({ start, end }) => ({ key: this.keys.partRecord(uploadId, start, end, unquote(part.etag)), start, end, part: part.number })),
    );
  }

  /** Completes the upload's multipart upload with the parts that hold their records' bytes, so they can be read and copied. Idempotent. */
  async seal(uploadId: string): Promise<void> {
    const info = await this.info(uploadId);
    const Key = this.keys.object(uploadId);
    for (let attempt = 1; ; attempt++) {
      if (await this.objects.exists(Key)) return;
      const valid = await this.validParts(uploadId, info);
      // Every part but the last must reach the minimum: a small one ends the upload, only the last may stay.
      const parts = valid.filter((part, i) => part.size >= this.settings.minPart || i === valid.length - 1);
      if (parts.length === 0) return;
      const etag = `${createHash('md5')
        .update(Buffer.concat(parts.map((part) => Buffer.from(unquote(part.etag), 'hex'))))
        .digest('hex')}-${parts.length}`;
      const ranges: [number, number, number][] = [];
      let base = 0;
      for (const part of parts) {
        for (const { start, end } of part.ranges) ranges.push([start, end, base]);
        base += part.size;
      }
      const { client, bucket } = this.objects;
      await retrying(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: this.keys.sealRecord(uploadId, etag), Body: JSON.stringify(ranges) })));
      const Parts = parts.map((part) => ({ PartNumber: part.number, ETag: part.etag }));
      try {
        await retrying(() => client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId: info.multipart, MultipartUpload: { Parts } })));
        return;
      } catch (error) {
        if (await this.objects.exists(Key)) return; // sealed by another instance meanwhile (RGW answers 500 "in progress", then 404)
        if (codeOf(error) !== 'InvalidPart' || attempt >= 3) throw unavailable(error); // InvalidPart: a part was re-written since the listing
      }
    }
  }

  private async sealedSegments(uploadId: string): Promise<Segment[] | null> {
    const Key = this.keys.object(uploadId);
    const head = await this.objects.head(Key);
    if (!head) return null;
    const ranges = await this.objects.text(this.keys.sealRecord(uploadId, unquote(head.ETag ?? '')));
    if (ranges === null) return null;
    return (JSON.parse(ranges) as [number, number, number][]).map(([start, end, base]) => ({ key: Key, start, end, base }));
  }

  /** The parts whose size and MD5 ETag match a record, in part order; none once the multipart upload is gone. */
  private async validParts(uploadId: string, info: UploadInfo): Promise<ValidPart[]> {
    if (!info.multipart || !info.grid) return [];
    const listed = new Map<number, { etag: string; size: number }>();
    let PartNumberMarker: string | undefined;
    try {
      do {
        const page = await retrying(() =>
          this.objects.client.send(
            new ListPartsCommand({ Bucket: this.objects.bucket, Key: this.keys.object(uploadId), UploadId: info.multipart, PartNumberMarker }),
          ),
        );
        for (const part of page.Parts ?? []) if (part.PartNumber && part.ETag) listed.set(part.PartNumber, { etag: part.ETag, size: part.Size ?? -1 });
        PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (PartNumberMarker);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const valid = new Map<number, ValidPart>();
    for await (const object of this.objects.list(this.keys.partFolder(uploadId))) {
      const record = this.keys.parsePartRecord(object.Key ?? '', uploadId);
      if (!record || record.start % info.grid !== 0) continue;
      const number = record.start / info.grid + 1;
      const part = listed.get(number);
      if (!part || part.size !== record.end - record.start + 1 || unquote(part.etag) !== record.md5) continue;
      const entry = valid.get(number) ?? { number, etag: part.etag, size: part.size, ranges: [] };
      entry.ranges.push({ start: record.start, end: record.end });
      valid.set(number, entry);
    }
    return [...valid.values()].sort((a, b) => a.number - b.number);
  }
}

function unquote(etag: string): string {
  return etag.replace(/"/g, '').toLowerCase();
}
