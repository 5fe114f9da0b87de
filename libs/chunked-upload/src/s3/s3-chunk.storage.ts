import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ChunkStorage, type PublishedFile } from '../storage/chunk-storage';
import { UploadNotFoundError } from '../errors/frago.errors';
import { createS3Client, codeOf, isNotFound } from './s3-client';
import { copySource, coveringChain, S3KeyLayout, type Segment } from './s3-keys';
import type { S3ChunkStorageOptions } from './s3-chunk-storage.options';
import { spool, sweepSpool } from './spool';
import { SpoolCache } from './spool-cache';
import { S3Composer, UPLOAD_METADATA } from './s3-composer';
import { retrying, unavailable } from './s3-retry';

const MIN_PART = 5 * 1024 * 1024;
const MAX_PUT = 5 * 1024 * 1024 * 1024;

/**
 * Object-storage backend: instances on different machines share
 * only the database and a bucket. Each chunk becomes one staging object,
 * stored with `Content-MD5` (which the server verifies) before it counts;
 * finalize composes the published object server-side with `UploadPartCopy`
 * (chunks below the engine's 5 MiB part minimum pass through the app once,
 * streamed) into a multipart upload at `<prefix><name>`. The name is claimed
 * before anything is written there, so no object is ever overwritten; the
 * claim is a conditional PutObject marker where the engine supports one, and
 * the database's claim of the name in finalize where it does not.
 * Import from `nestjs-frago/s3`; needs `@aws-sdk/client-s3`.
 * @publicApi
 */
export class S3ChunkStorage extends ChunkStorage {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly keys: S3KeyLayout;
  private readonly spoolDir: string;
  private readonly composer: S3Composer;
  private readonly orphanGrace: number;
  private readonly createBucket: boolean;
  private readonly cache: SpoolCache;
  /** Chunk objects this process stored, per upload (saves a listing when reading them back). */
  private readonly known = new Map<string, Map<number, Segment>>();

  constructor(options: S3ChunkStorageOptions) {
    super();
    if (!options || typeof options.bucket !== 'string' || options.bucket.trim() === '') {
      throw new Error('S3ChunkStorage: option "bucket" is required (the bucket that holds chunks and published files)');
    }
    this.bucket = options.bucket;
    const prefix = options.prefix ?? 'frago/';
    this.keys = new S3KeyLayout(prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
    this.client = options.client ?? createS3Client(options.clientConfig);
    this.spoolDir = options.spoolDir ?? tmpdir();
    this.orphanGrace = options.orphanGrace ?? 60 * 60 * 1000;
    this.createBucket = options.createBucket ?? false;
    const minPart = options.minPartSize ?? MIN_PART;
    if (!Number.isInteger(minPart) || minPart < 1) throw new Error(`S3ChunkStorage: option "minPartSize" must be a positive integer, got ${minPart}`);
    this.cache = new SpoolCache(options.readCacheBytes ?? 256 * 1024 * 1024);
    this.composer = new S3Composer(this.client, this.bucket, this.keys, {
      minPart,
      concurrency: options.composeConcurrency ?? 8,
      spoolDir: this.spoolDir,
      openRange: (key, from, to) => this.openRange(key, from, to),
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
   * Readiness (SPEC §12, bucket reachable and writable): writes and deletes a
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
    const body = JSON.stringify({ totalSize });
    await retrying(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.uploadMarker(uploadId), Body: body, ContentType: 'application/json' })));
  }

  async writeChunk(uploadId: string, offset: number, source: Readable, signal?: AbortSignal): Promise<number> {
    const body = await spool(source, this.spoolDir, signal);
    let kept = false;
    try {
      if (body.size === 0) return 0;
      if (body.size > MAX_PUT) throw new Error('S3ChunkStorage: a chunk may hold at most 5 GiB (one PutObject)');
      const segment: Segment = { key: this.keys.chunk(uploadId, offset, offset + body.size - 1), start: offset, end: offset + body.size - 1 };
      await retrying(
        () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: segment.key, Body: body.open(), ContentLength: body.size, ContentMD5: body.md5 })),
        signal,
      );
      // Checked after the write: remove() deletes the marker before listing chunks, so either
      // it sees this object or this check sees the marker gone (and the object is taken back).
      if (!(await this.exists(this.keys.uploadMarker(uploadId)))) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: segment.key })).catch(() => undefined);
        throw new UploadNotFoundError();
      }
      this.remember(uploadId, segment);
      kept = this.cache.keep(segment.key, body);
      return body.size;
    } finally {
      if (!kept) await body.dispose();
    }
  }

  /**
   * tus concatenation, server-side: each stored chunk of the partial upload
   * `sourceId` is copied inside the bucket (CopyObject, no byte through the
   * app) to a chunk of `targetId` shifted by `offset`; publishing the final
   * upload then composes those with UploadPartCopy where they reach the part
   * minimum (5 MiB), like any chunks. Only the piece of a lingering chunk
   * object that sticks out of `[0, size)` (a lost commit) is read and
   * written through the app.
   */
  override async copyUpload(sourceId: string, size: number, targetId: string, offset: number): Promise<number> {
    await this.assertCreated(targetId);
    const chain = coveringChain(await this.listSegments(sourceId), 0, size - 1);
    const copied: Segment[] = [];
    for (const segment of chain) {
      const from = Math.max(0, segment.start);
      const to = Math.min(size - 1, segment.end);
      const target: Segment = { key: this.keys.chunk(targetId, offset + from, offset + to), start: offset + from, end: offset + to };
      if (from === segment.start && to === segment.end) {
        await retrying(() => this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target.key, CopySource: copySource(this.bucket, segment.key) })));
      } else {
        const body = await spool(await this.openRange(segment.key, from - segment.start, to - segment.start), this.spoolDir);
        try {
          await retrying(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: target.key, Body: body.open(), ContentLength: body.size, ContentMD5: body.md5 })));
        } finally {
          await body.dispose();
        }
      }
      copied.push(target);
    }
    // As in writeChunk: remove() deletes the marker before listing, so either it sees these copies or this check sees it gone.
    if (!(await this.exists(this.keys.uploadMarker(targetId)))) {
      await Promise.all(copied.map((segment) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: segment.key })).catch(() => undefined)));
      throw new UploadNotFoundError();
    }
    for (const segment of copied) this.remember(targetId, segment);
    return size;
  }

  read(uploadId: string, start: number, end: number): Readable {
    const self = this;
    return Readable.from(
      (async function* () {
        const chain = coveringChain(await self.segmentsFor(uploadId, start, end), start, end);
        let next = chain.length > 0 ? self.open(chain[0], start, end) : null;
        for (let i = 0; i < chain.length; i++) {
          const current = next as Promise<Readable>;
          next = i + 1 < chain.length ? self.open(chain[i + 1], start, end) : null; // one GET ahead
          next?.catch(() => undefined);
          for await (const data of await current) yield data as Buffer;
        }
      })(),
      { objectMode: false },
    );
  }

  /** The part of `segment` that lies in `[start, end]`. */
  private open(segment: Segment, start: number, end: number): Promise<Readable> {
    return this.openRange(segment.key, Math.max(start, segment.start) - segment.start, Math.min(end, segment.end) - segment.start);
  }

  /** Bytes `[from, to]` of the object `key`: from the spool cache when this process stored it lately, else a GET. */
  private async openRange(key: string, from: number, to: number): Promise<Readable> {
    const cached = this.cache.open(key, from, to);
    if (cached) return cached;
    const response = await retrying(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${from}-${to}` })));
    return response.Body as Readable;
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
    // The size comes from the stored chunks: finalize has checked in the database that they cover
    // the upload, and a tus upload of deferred length was created with size 0.
    const segments = await this.listSegments(uploadId);
    const totalSize = segments.reduce((size, segment) => Math.max(size, segment.end + 1), 0);
    const chain = totalSize === 0 ? [] : coveringChain(segments, 0, totalSize - 1);
    const key = this.keys.published(relativePath);
    if (!(await this.composer.claimName(relativePath, uploadId))) return null;
    const existing = await this.head(key);
    if (existing) {
      if (existing.Metadata?.[UPLOAD_METADATA] === uploadId) return { relativePath, location: this.location(key) };
      await this.composer.releaseName(relativePath, uploadId);
      return null; // an object frago did not write: never replace it
    }
    await this.composer.compose(uploadId, key, chain, totalSize);
    return { relativePath, location: this.location(key) };
  }

  async remove(uploadId: string): Promise<void> {
    this.known.delete(uploadId);
    this.cache.dropPrefix(this.keys.uploadFolder(uploadId));
    await retrying(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keys.uploadMarker(uploadId) })));
    await this.composer.abortComposition(uploadId);
    await this.deleteAll(this.keys.uploadFolder(uploadId));
  }

  /**
   * Removes what crashed instances left: staging objects of uploads whose
   * newest object is older than `staleBefore` minus `orphanGrace`, and
   * multipart uploads under the prefix initiated before that. Every upload
   * expires `expiration` after it starts, so such data belongs to no live
   * upload. The expiry sweeper calls this with `now - expiration`.
   */
  override async sweep(staleBefore: Date): Promise<void> {
    const cutoff = staleBefore.getTime() - this.orphanGrace;
    const newest = new Map<string, number>();
    for await (const object of this.list(this.keys.uploads)) {
      const id = this.keys.uploadOf(object.Key ?? '');
      if (!id) continue;
      newest.set(id, Math.max(newest.get(id) ?? 0, object.LastModified?.getTime() ?? 0));
    }
    for (const [id, modified] of newest) if (modified < cutoff) await this.remove(id);
    await this.composer.abortStale(cutoff);
  }

  private async assertCreated(uploadId: string): Promise<void> {
    if (!(await this.exists(this.keys.uploadMarker(uploadId)))) throw new UploadNotFoundError();
  }

  private remember(uploadId: string, segment: Segment): void {
    let segments = this.known.get(uploadId);
    if (!segments) {
      if (this.known.size >= 10_000) this.known.delete(this.known.keys().next().value as string);
      segments = new Map();
      this.known.set(uploadId, segments);
    }
    segments.set(segment.start, segment);
  }

  /** The segments to read `[start, end]` from: the ones this process wrote when they cover it, else a listing. */
  private async segmentsFor(uploadId: string, start: number, end: number): Promise<Segment[]> {
    const known = [...(this.known.get(uploadId)?.values() ?? [])];
    try {
      coveringChain(known, start, end);
      return known;
    } catch {
      return this.listSegments(uploadId);
    }
  }

  private async listSegments(uploadId: string): Promise<Segment[]> {
    const segments: Segment[] = [];
    for await (const object of this.list(this.keys.chunkFolder(uploadId))) {
      const segment = this.keys.parseChunk(object.Key ?? '', uploadId);
      if (segment) segments.push(segment);
    }
    return segments;
  }

  private async *list(prefix: string): AsyncGenerator<{ Key?: string; LastModified?: Date }> {
    let token: string | undefined;
    do {
      const page = await retrying(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteAll(prefix: string): Promise<void> {
    let batch: { Key: string }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const Objects = batch;
      batch = [];
      await retrying(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } })));
    };
    for await (const object of this.list(prefix)) {
      if (object.Key) batch.push({ Key: object.Key });
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  private async head(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await retrying(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable(error);
    }
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }
}
