import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { UploadStatus } from '../entities/upload-status';
import { IdentifierStrategy, type UploadIdentifier } from '../identifier/identifier-strategy';
import { ChunkStorage, type StoragePlacement } from '../storage/chunk-storage';
import { FragoEventPublisher } from '../events/frago-event-publisher';
import { FragoEvents } from '../events/frago-events';
import { UploadDeletedEvent, UploadStartedEvent } from '../events/upload.events';
import {
  FinalizeInProgressError,
  InvalidInputError,
  ListForbiddenError,
  QuotaExceededError,
  UploadNotFoundError,
  UploadTooLargeError,
} from '../errors/frago.errors';
import { computeCoverage, type Coverage } from '../domain/coverage';
import { filenameProblem } from '../domain/safe-filename';
import { UploadStore, type ActiveUsage } from './upload-store';
import { IncrementalHasher } from './incremental-hash';
import { UploadRemoval } from './upload-removal';
import type { ChunkRange } from '../protocol/wire.types';

/** An upload with the chunk facts a status answer needs. @publicApi */
export interface UploadState<U extends AbstractChunkUpload = AbstractChunkUpload> {
  upload: U;
  chunks: ChunkRange[];
  coverage: Coverage;
}

/** How an upload is started beyond frago's filename and size (used by the tus endpoint). */
export interface StartOptions {
  /** The upload's UUID, when the caller chose it. @default a fresh UUID */
  id?: string;
  /**
   * The length is not known yet (tus `Upload-Defer-Length`): `totalSize` is
   * a placeholder (the upper bound) and the storage is created empty.
   * @default false
   */
  deferredLength?: boolean;
  /** Handed to the storage's `create()` (a tus partial upload). */
  placement?: StoragePlacement;
}

/** frago's start (`POST /upload/`), status (`GET /upload/:id/`), list (`GET /upload/`) and abort (`DELETE /upload/:id/`). */
const RECENT_TTL_MS = 5_000;
const RECENT_MAX = 10_000;

/**
 * The operations as a service, for a host's own code (an admin page, a job).
 * Typed by the host's upload entity and identifier, e.g.
 * `UploadService<DeviceUpload, Device>` (Nest injects the one instance; the
 * type arguments only say what your `uploadEntity` and strategy are).
 * @publicApi
 */
@Injectable()
export class UploadService<U extends AbstractChunkUpload = AbstractChunkUpload, TIdentifier = UploadIdentifier> {
  private readonly recent = new Map<string, { upload: AbstractChunkUpload; until: number }>();

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly store: UploadStore,
    private readonly storage: ChunkStorage,
    private readonly strategy: IdentifierStrategy,
    private readonly events: FragoEventPublisher,
    private readonly hasher: IncrementalHasher,
    private readonly removal: UploadRemoval,
  ) {}

  /** Creates an upload owned by `identifier`. */
  async start(identifier: TIdentifier | null, filename: string, totalSize: number, startOptions: StartOptions = {}): Promise<U> {
    const problem = filenameProblem(filename);
    if (problem) throw new InvalidInputError(problem);
    if (!Number.isSafeInteger(totalSize) || totalSize <= 0) throw new InvalidInputError('total_size must be a positive integer');
    if (totalSize > this.options.maxUploadSize) throw new UploadTooLargeError(this.options.maxUploadSize);
    await this.checkQuota(identifier, totalSize);
    const now = Date.now();
    const upload = this.store.newUpload();
    upload.id = startOptions.id ?? randomUUID();
    upload.filename = filename;
    upload.totalSize = totalSize;
    upload.status = UploadStatus.InProgress;
    upload.createdAt = new Date(now);
    upload.completedAt = null;
    upload.expiresAt = new Date(now + this.options.expiration);
    upload.finalizingUntil = null;
    upload.checksum = null;
    upload.checksumAlgo = null;
    upload.assembledName = null;
    this.strategy.assign(upload, identifier);
    await this.storage.create(upload.id, startOptions.deferredLength ? 0 : totalSize, startOptions.placement);
    try {
      if (this.quotaApplies(identifier)) {
        await this.store.insertUploadAdmitted(upload, this.strategy.ownerWhere(identifier), (usage) => this.admit(usage, totalSize));
      } else {
        await this.store.insertUpload(upload);
      }
    } catch (error) {
      await this.storage.remove(upload.id).catch(() => undefined);
      throw error;
    }
    this.events.emit(FragoEvents.UploadStarted, new UploadStartedEvent(upload));
    // The store builds the configured uploadEntity, which U names.
    return upload as U;
  }

  private quotaApplies(identifier: UploadIdentifier): boolean {
    const { maxActiveUploadsPerIdentifier: maxCount, maxActiveBytesPerIdentifier: maxBytes } = this.options;
    return identifier !== null && identifier !== undefined && (maxCount !== null || maxBytes !== null);
  }

  /** Early refusal before storage is prepared; the authoritative check runs again under the owner's lock at insert. */
  private async checkQuota(identifier: UploadIdentifier, totalSize: number): Promise<void> {
    if (!this.quotaApplies(identifier)) return;
    this.admit(await this.store.activeUsage(this.strategy.ownerWhere(identifier)), totalSize);
  }

  private admit(usage: ActiveUsage, totalSize: number): void {
    const { maxActiveUploadsPerIdentifier: maxCount, maxActiveBytesPerIdentifier: maxBytes } = this.options;
    if (maxCount !== null && usage.count + 1 > maxCount) {
      throw new QuotaExceededError(`Too many uploads in progress (limit ${maxCount}); finish or delete one first`);
    }
    if (maxBytes !== null && usage.bytes + totalSize > maxBytes) {
      throw new QuotaExceededError(`Uploads in progress would reserve more than ${maxBytes} bytes; finish or delete one first`);
    }
  }

  /**
   * Like `get()`, for the chunk hot path: remembers for a few seconds that
   * this caller owns this in-progress upload. Only facts that never change
   * are relied on (existence, owner, size, expiry time): the chunk's range
   * reservation re-reads the row under a lock and re-checks its state.
   */
  async getForChunk(identifier: UploadIdentifier, id: string): Promise<AbstractChunkUpload> {
    const owner = this.strategy.ownerWhere(identifier);
    let key: string | null;
    try {
      key = `${id}\u0000${JSON.stringify(owner)}`;
    } catch {
      key = null; // an owner fragment that does not serialise is simply not cached
    }
    const now = Date.now();
    const hit = key ? this.recent.get(key) : undefined;
    if (hit && hit.until > now) return hit.upload;
    const upload = await this.get(identifier as TIdentifier | null, id);
    if (key && upload.effectiveStatus(now) === UploadStatus.InProgress) {
      if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value as string);
      this.recent.set(key, { upload, until: now + RECENT_TTL_MS });
    }
    return upload;
  }

  /** The caller's upload, or `UploadNotFoundError` (also for another caller's upload). */
  async get(identifier: TIdentifier | null, id: string): Promise<U> {
    const upload = await this.store.findUpload(id, this.strategy.ownerWhere(identifier));
    if (!upload) throw new UploadNotFoundError();
    return upload as U;
  }

  /** Status with stored chunks and missing ranges, as frago's `GET /upload/:id/` reports them. */
  async status(identifier: TIdentifier | null, id: string): Promise<UploadState<U>> {
    const upload = await this.get(identifier, id);
    if (upload.status === UploadStatus.Complete) {
      return { upload, chunks: [], coverage: { receivedBytes: upload.totalSize, missing: [] } };
    }
    const rows = upload.effectiveStatus() === UploadStatus.InProgress ? await this.store.committedChunks(id) : [];
    const chunks = rows.map(({ start, end, size }) => ({ start, end, size }));
    return { upload, chunks, coverage: computeCoverage(chunks, upload.totalSize) };
  }

  /** The caller's uploads, newest first. Anonymous callers may not list (403). */
  async list(identifier: TIdentifier | null, status: UploadStatus | undefined, limit: number, offset: number): Promise<U[]> {
    if (!this.strategy.canList(identifier)) throw new ListForbiddenError();
    return (await this.store.listUploads(this.strategy.ownerWhere(identifier), status, limit, offset)) as U[];
  }

  /** Bytes received so far by each upload in progress (for list entries); others are absent. */
  receivedBytes(uploads: AbstractChunkUpload[], now = Date.now()): Promise<Map<string, number>> {
    const ids = uploads.filter((upload) => upload.effectiveStatus(now) === UploadStatus.InProgress).map((upload) => upload.id);
    return this.store.committedBytes(ids);
  }

  /** Deletes the upload's records and stored data (frago's `DELETE /upload/:id/`). */
  async abort(identifier: TIdentifier | null, id: string): Promise<void> {
    const upload = await this.get(identifier, id);
    const outcome = await this.store.deleteUpload(id);
    if (outcome === 'gone') throw new UploadNotFoundError();
    if (outcome === 'finalizing') throw new FinalizeInProgressError();
    await this.storage.remove(id);
    this.hasher.forget(id);
    await this.removal.removed(id);
    this.events.emit(FragoEvents.UploadDeleted, new UploadDeletedEvent(upload));
  }
}
