import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { codeOf, statusOf } from './s3-client';
import type { S3Objects } from './s3-objects';
import { copySource, type S3KeyLayout, type Segment } from './s3-keys';
import { planParts, type PlannedPart, type SourceRange } from './part-plan';
import { retrying, unavailable } from './s3-retry';
import { spool } from './spool';

/** User metadata on a published object: the upload that made it (a retried publish recognises its own object). */
export const UPLOAD_METADATA = 'frago-upload';

interface ComposerSettings {
  minPart: number;
  maxParts: number;
  concurrency: number;
  spoolDir: string;
  /** Reads bytes `[from, to]` of a chunk object (from the local spool cache when it can). */
  openRange(key: string, from: number, to: number): Promise<Readable>;
}

/** Publishing: name claims and the server-side composition of the published object. */
export class S3Composer {
  /** False once the engine said it has no conditional PutObject (Swift: 501). */
  private conditionalPut = true;

  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(
    private readonly objects: S3Objects,
    private readonly keys: S3KeyLayout,
    private readonly settings: ComposerSettings,
  ) {
    this.client = objects.client;
    this.bucket = objects.bucket;
  }

  /**
   * Claims `relativePath` for `uploadId` with a marker written by PutObject
   * `If-None-Match: *` (atomic on AWS S3, MinIO and Ceph RGW): true when the
   * claim is (or already was) this upload's. Engines without conditional
   * writes (Swift) leave the arbitration to the database's claim of the name.
   */
  async claimName(relativePath: string, uploadId: string): Promise<boolean> {
    if (!this.conditionalPut) return true;
    const Key = this.keys.nameMarker(relativePath);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: uploadId, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 501 || codeOf(error) === 'NotImplemented') {
        this.conditionalPut = false;
        return true;
      }
      if (status !== 412 && status !== 409) throw unavailable(error);
    }
    return (await this.markerOwner(Key)) === uploadId;
  }

  /** Gives a claimed name back (its target turned out to be taken by an object frago did not write). */
  async releaseName(relativePath: string, uploadId: string): Promise<void> {
    const Key = this.keys.nameMarker(relativePath);
    if ((await this.markerOwner(Key)) === uploadId) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
  }

  private markerOwner(Key: string): Promise<string | null> {
    return this.objects.text(Key);
  }

  /** Builds the object at `key` from the chunk objects `chain` (covering `[0, totalSize)`) in one multipart upload. */
  async compose(uploadId: string, key: string, chain: Segment[], totalSize: number): Promise<void> {
    const Metadata = { [UPLOAD_METADATA]: uploadId };
    // Recorded first, so that remove() can abort this multipart upload whatever happens next.
    await retrying(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.composeRecord(uploadId), Body: key })));
    if (totalSize === 0) {
      await retrying(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: '', Metadata })));
      return;
    }
    const created = await retrying(() => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, Metadata })));
    const UploadId = created.UploadId as string;
    try {
      const plan = planParts(chain, this.settings.minPart, this.settings.maxParts);
      const parts = await mapLimit(plan, this.settings.concurrency, (part) => this.uploadPart(key, UploadId, part));
      await this.complete(key, UploadId, parts, uploadId, totalSize);
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId })).catch(() => undefined);
      throw unavailable(error);
    }
  }

  private async uploadPart(Key: string, UploadId: string, part: PlannedPart): Promise<CompletedPart> {
    const common = { Bucket: this.bucket, Key, UploadId, PartNumber: part.number };
    if (part.kind === 'copy') {
      const { source } = part;
      const copied = await retrying(() =>
        this.client.send(
          new UploadPartCopyCommand({ ...common, CopySource: copySource(this.bucket, source.key), CopySourceRange: `bytes=${source.from}-${source.to}` }),
        ),
      );
      return { PartNumber: part.number, ETag: copied.CopyPartResult?.ETag };
    }
    const body = await spool(Readable.from(this.readRanges(part.sources)), this.settings.spoolDir);
    try {
      const uploaded = await retrying(() =>
        this.client.send(new UploadPartCommand({ ...common, Body: body.open(), ContentLength: body.size, ContentMD5: body.md5 })),
      );
      return { PartNumber: part.number, ETag: uploaded.ETag };
    } finally {
      await body.dispose();
    }
  }

  private async *readRanges(sources: SourceRange[]): AsyncGenerator<Buffer> {
    for (const source of sources) {
      for await (const data of await this.settings.openRange(source.key, source.from, source.to)) yield data as Buffer;
    }
  }

  /**
   * Completes, tolerating Ceph RGW's answers: an empty ETag, and `500 "This
   * multipart completion is already in progress"` for a second Complete,
   * which means "maybe done" (retried, then checked with HeadObject).
   */
  private async complete(Key: string, UploadId: string, Parts: CompletedPart[], uploadId: string, totalSize: number): Promise<void> {
    try {
      await retrying(() => this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts } })));
    } catch (error) {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })).catch(() => null);
      if (head?.Metadata?.[UPLOAD_METADATA] !== uploadId || head.ContentLength !== totalSize) throw error;
    }
  }

  /** Aborts the multipart upload(s) an earlier compose of `uploadId` left unfinished. */
  async abortComposition(uploadId: string): Promise<void> {
    const key = await this.objects.text(this.keys.composeRecord(uploadId));
    if (key === null) return;
    await this.abortWhere(key, (upload) => upload.Key === key);
  }

  /** Publishes the whole object `source` at `key` with one CopyObject (the engines share the data instead of copying it). */
  async copyWhole(uploadId: string, source: string, key: string, totalSize: number): Promise<void> {
    const Metadata = { [UPLOAD_METADATA]: uploadId };
    const head = await this.objects.head(source);
    if (head?.ContentLength !== totalSize) throw new Error(`S3ChunkStorage: ${source} holds ${head?.ContentLength ?? 'no'} bytes, expected ${totalSize}`);
    await retrying(() =>
      this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: copySource(this.bucket, source), MetadataDirective: 'REPLACE', Metadata }),
      ),
    );
  }

  /** Aborts every multipart upload whose key starts with `prefix`. */
  async abortUnder(prefix: string): Promise<void> {
    await this.abortWhere(prefix, () => true);
  }

  /** Aborts every multipart upload under the prefix initiated before `cutoff` (ms since the epoch). */
  async abortStale(cutoff: number): Promise<void> {
    await this.abortWhere(this.keys.prefix, (upload) => (upload.Initiated?.getTime() ?? Infinity) < cutoff);
  }

  private async abortWhere(Prefix: string, match: (upload: { Key?: string; Initiated?: Date }) => boolean): Promise<void> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      const page = await retrying(() => this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix, KeyMarker, UploadIdMarker })));
      for (const upload of page.Uploads ?? []) {
        if (!match(upload)) continue;
        // Ceph answers an upload aborted meanwhile with 404 or 500: either way it is gone.
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId })).catch(() => undefined);
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  }
}

/** `map` with at most `limit` calls at once, results in input order; the first failure rejects. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
