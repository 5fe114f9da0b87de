import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ChunkStorage, type ChunkBodyHints, type PublishedFile, type WriteFence } from '../storage/chunk-storage';
import { ChunkTooLargeError, UploadNotFoundError, UploadTooLargeError } from '../errors/frago.errors';
import { MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS } from './part-plan';
import { createS3Client, codeOf, isNotFound } from './s3-client';
import { coveringChain, S3KeyLayout, type Segment } from './s3-keys';
import type { S3ChunkStorageOptions } from './s3-chunk-storage.options';
import { sweepSpool } from './spool';
import { ChunkBody } from './chunk-body';
import { SpoolCache } from './spool-cache';
import { S3Composer, UPLOAD_METADATA } from './s3-composer';
import { retrying } from './s3-retry';
import { S3Objects } from './s3-objects';
import { sweepLeftovers } from './s3-sweep';
import { SegmentIndex } from './s3-segments';
import { DirectParts } from './s3-direct';
import { copyChunks } from './s3-copy-chunks';
import { S3Reader } from './s3-reader';

const MIN_PART = 5 * 1024 * 1024;
const MAX_PUT = 5 * 1024 * 1024 * 1024;

/** A chunk must fit one PutObject (5 GiB): a bigger one is refused as too large (413), before its body is read when its size is known. */
function assertPuttable(size: number): void {
  if (size > MAX_PUT) throw new ChunkTooLargeError(MAX_PUT);
}

/** S3's 404 (NoSuchUpload: the multipart upload is sealed or gone) as null; anything else rethrown. */
function notFoundAsNull(error: unknown): null {
  if (isNotFound(error)) return null;
  throw error;
}

/**
 * Object-storage backend: instances on different machines share only the
 * database and a bucket. A chunk counts once the bucket has it with a
 * `Content-MD5` the server verified: as a part of the upload's own multipart
 * upload where it can be one (DirectParts), else as a chunk object. Publishing
 * seals those parts and copies the sealed object whole, or composes the
 * object server-side with UploadPartCopy (chunks below the 5 MiB part minimum
 * pass through the app once, streamed). The name is claimed before anything
 * is written there, so no object is ever overwritten.
 * Import from `nestjs-frago/s3`; needs `@aws-sdk/client-s3`.
 * @publicApi
 */
export class S3ChunkStorage extends ChunkStorage {
  /** A client's Content-MD5 goes to S3 with the chunk, and S3 verifies it (400 BadDigest: the chunk is refused). */
  override readonly checksContentMd5 = true;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly keys: S3KeyLayout;
  private readonly objects: S3Objects;
  private readonly spoolDir: string;
  private readonly composer: S3Composer;
  private readonly orphanGrace: number;
  private readonly createBucket: boolean;
  private readonly maxParts: number;
  private readonly cache: SpoolCache;
  private readonly segments: SegmentIndex;
  private readonly direct: DirectParts;
  private readonly reader: S3Reader;

  constructor(options: S3ChunkStorageOptions) {
    super();
    const bucket: unknown = (options as Partial<S3ChunkStorageOptions> | undefined)?.bucket; // also for callers without types
    if (typeof bucket !== 'string' || bucket.trim() === '') {
      throw new Error('S3ChunkStorage: option "bucket" is required (the bucket that holds chunks and published files)');
    }
    this.bucket = options.bucket;
    const prefix = options.prefix ?? 'frago/';
    this.keys = new S3KeyLayout(prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
    this.client = options.client ?? createS3Client(options.clientConfig);
    this.objects = new S3Objects(this.client, this.bucket);
    this.spoolDir = options.spoolDir ?? tmpdir();
    this.orphanGrace = options.orphanGrace ?? 60 * 60 * 1000;
    this.createBucket = options.createBucket ?? false;
    const minPart = options.minPartSize ?? MIN_PART;
    if (!Number.isInteger(minPart) || minPart < 1) throw new Error(`S3ChunkStorage: option "minPartSize" must be a positive integer, got ${minPart}`);
    this.maxParts = options.maxParts ?? MAX_PARTS;
    if (!Number.isInteger(this.maxParts) || this.maxParts < 1)
      throw new Error(`S3ChunkStorage: option "maxParts" must be a positive integer, got ${this.maxParts}`);
    this.direct = new DirectParts(this.objects, this.keys, { minPart, maxParts: this.maxParts });
    this.segments = new SegmentIndex(this.objects, this.keys, (uploadId) => this.direct.segments(uploadId));
    this.cache = new SpoolCache(options.readCacheBytes ?? 256 * 1024 * 1024);
    this.reader = new S3Reader(this.objects, this.segments, this.direct, this.cache);
    this.composer = new S3Composer(this.objects, this.keys, {
      minPart,
      maxParts: this.maxParts,
      concurrency: options.composeConcurrency ?? 8,
      spoolDir: this.spoolDir,
      openRange: (key, from, to) => this.reader.openRange(key, from, to),
    });
  }

  /** Where an object of this storage lives, as `upload.completed` reports it. */
  location(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  override async init(): Promise<void> {
    await sweepSpool(this.spoolDir);
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!this.createBucket || !isNotFound(error)) throw error;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((created: unknown) => {
        if (codeOf(created) !== 'BucketAlreadyOwnedByYou') throw created;
      });
    }
  }

  /**
   * Readiness (the bucket is reachable and writable): writes and deletes a
   * tiny object under `<prefix>.frago-health/`, within 5 s. No retries: a
   * probe reports the state now.
   */
  override async probe(): Promise<{ freeBytes?: number }> {
    const key = `${this.keys.prefix}.frago-health/${randomUUID()}`;
    const options = { abortSignal: AbortSignal.timeout(5_000) };
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: 'ok' }), options);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), options);
    return {};
  }

  async create(uploadId: string, totalSize: number): Promise<void> {
    // One multipart upload holds at most maxParts parts of at most 5 GiB (and AWS caps an object at 5 TiB).
    const limit = Math.min(MAX_OBJECT_SIZE, this.maxParts * MAX_PART_SIZE);
    if (totalSize > limit) throw new UploadTooLargeError(limit);
    const info = await this.direct.open(uploadId, totalSize);
    await retrying(() =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.uploadMarker(uploadId), Body: JSON.stringify(info), ContentType: 'application/json' }),
      ),
    );
    this.direct.remember(uploadId, info);
  }

  /**
   * Stores the chunk as a part of the upload's multipart upload when it can
   * be one (see DirectParts; never for a writer that took over a stale
   * reservation, whose predecessor may still write that part), else as a
   * chunk object. Either way with Content-MD5, which the server verifies:
   * the client's, when `hints` carry it (the bytes then stream straight
   * through, see ChunkBody), else one computed while spooling the chunk.
   */
  async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal, fence?: WriteFence, hints?: ChunkBodyHints): Promise<number> {
    if (hints) assertPuttable(hints.size);
    const body =
      hints?.md5 && hints.size > 0
        ? ChunkBody.streamed(source, hints.size, hints.md5, this.spoolDir, signal)
        : await ChunkBody.spooled(source, this.spoolDir, signal);
    try {
      if (body.size === 0) return 0;
      assertPuttable(body.size);
      const info = await this.direct.info(uploadId);
      const number = fence?.tookOver ? null : this.direct.partNumber(info, offset, body.size);
      const part = number === null ? null : await this.direct.write(uploadId, info, number, offset, body, signal).catch(notFoundAsNull);
      const segment = part ?? (await this.writeObject(uploadId, offset, body));
      this.segments.remember(uploadId, segment);
      const copy = body.takeCopy();
      if (copy && !this.cache.keep(segment.key, copy)) await copy.dispose();
      return body.size;
    } finally {
      await body.dispose();
    }
  }

  /** A chunk as a chunk object (the multipart upload is sealed, or the chunk cannot be a part). */
  private async writeObject(uploadId: string, offset: number, body: ChunkBody): Promise<Segment> {
    const segment: Segment = { key: this.keys.chunk(uploadId, offset, offset + body.size - 1), start: offset, end: offset + body.size - 1 };
    const input = { Bucket: this.bucket, Key: segment.key, ContentLength: body.size, ContentMD5: body.md5 };
    await body.send((Body, abortSignal) => this.client.send(new PutObjectCommand({ ...input, Body }), { abortSignal }));
    // Checked after the write: remove() deletes the marker before listing chunks, so either
    // it sees this object or this check sees the marker gone (and the object is taken back).
    if (!(await this.objects.exists(this.keys.uploadMarker(uploadId)))) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: segment.key })).catch(() => undefined);
      throw new UploadNotFoundError();
    }
    return segment;
  }

  /**
   * tus concatenation, server-side: the stored chunks of the complete partial
   * upload `sourceId` (sealed first, so its parts can be copied) become chunk
   * objects of `targetId` shifted by `offset`, by CopyObject where a chunk is
   * a whole object (see copyChunks); publishing the final upload then
   * composes those with UploadPartCopy where they reach the part minimum.
   */
  override async copyUpload(sourceId: string, size: number, targetId: string, offset: number): Promise<number> {
    await this.assertCreated(targetId);
    await this.direct.seal(sourceId);
    const chain = coveringChain(await this.segments.list(sourceId), 0, size - 1);
    const settings = {
      objects: this.objects,
      keys: this.keys,
      spoolDir: this.spoolDir,
      openRange: (key: string, from: number, to: number) => this.reader.openRange(key, from, to),
    };
    const copied = await copyChunks(settings, chain, size, targetId, offset);
    // As in writeChunk: remove() deletes the marker before listing, so either it sees these copies or this check sees it gone.
    if (!(await this.objects.exists(this.keys.uploadMarker(targetId)))) {
      await Promise.all(copied.map((segment) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: segment.key })).catch(() => undefined)));
      throw new UploadNotFoundError();
    }
    for (const segment of copied) this.segments.remember(targetId, segment);
    return size;
  }

  read(uploadId: string, start: number, end: number): Readable {
    return Readable.from(this.reader.bytes(uploadId, start, end), { objectMode: false });
  }

  /**
   * Finalize has claimed `relativePath` for this upload in the database.
   * Where the engine has conditional writes, a marker object claims it in
   * the bucket too (so two storages on one bucket without a shared database
   * still never share a name); an object at the key that frago did not write
   * is never replaced: null, and finalize claims the next name.
   */
  async publish(uploadId: string, relativePath: string): Promise<PublishedFile | null> {
    await this.assertCreated(uploadId);
    await this.direct.seal(uploadId);
    this.segments.forget(uploadId);
    // The size comes from the stored chunks: finalize has checked in the database that they cover
    // the upload, and a tus upload of deferred length was created with size 0.
    const segments = await this.segments.list(uploadId);
    const totalSize = segments.reduce((size, segment) => Math.max(size, segment.end + 1), 0);
    const chain = totalSize === 0 ? [] : coveringChain(segments, 0, totalSize - 1);
    const key = this.keys.published(relativePath);
    if (!(await this.composer.claimName(relativePath, uploadId))) return null;
    const existing = await this.objects.head(key);
    if (existing) {
      if (existing.Metadata?.[UPLOAD_METADATA] === uploadId) return { relativePath, location: this.location(key) };
      await this.composer.releaseName(relativePath, uploadId);
      return null; // an object frago did not write: never replace it
    }
    const object = this.keys.object(uploadId);
    if (totalSize <= MAX_PUT && chain.every((segment) => segment.key === object && segment.base === segment.start)) {
      await this.composer.copyWhole(uploadId, object, key, totalSize); // the sealed object is the file: no byte is copied
    } else {
      await this.composer.compose(uploadId, key, chain, totalSize);
    }
    return { relativePath, location: this.location(key) };
  }

  async remove(uploadId: string): Promise<void> {
    this.segments.forget(uploadId);
    this.direct.forget(uploadId);
    this.cache.dropPrefix(this.keys.uploadFolder(uploadId));
    await this.objects.delete(this.keys.uploadMarker(uploadId));
    await this.composer.abortUnder(this.keys.uploadFolder(uploadId)); // the upload's own multipart upload
    await this.composer.abortComposition(uploadId);
    await this.objects.deleteAll(this.keys.uploadFolder(uploadId));
  }

  /**
   * Removes what crashed instances left (staging objects, name markers and
   * multipart uploads, see `sweepLeftovers`): anything older than
   * `staleBefore` minus `orphanGrace`. Every upload expires `expiration` after
   * it starts, so such data belongs to no live upload. The expiry sweeper
   * calls this with `now - expiration`.
   */
  override async sweep(staleBefore: Date): Promise<void> {
    await sweepLeftovers(this.objects, this.keys, staleBefore.getTime() - this.orphanGrace, {
      remove: (uploadId) => this.remove(uploadId),
      abortStale: (cutoff) => this.composer.abortStale(cutoff),
    });
  }

  private async assertCreated(uploadId: string): Promise<void> {
    if (!(await this.objects.exists(this.keys.uploadMarker(uploadId)))) throw new UploadNotFoundError();
  }
}
