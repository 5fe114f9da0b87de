import { Inject, Injectable, Logger } from '@nestjs/common';
import { errorText } from '../domain/error-text';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { isSupportedHash } from '../domain/hash-algorithms';
import { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { UploadStatus } from '../entities/upload-status';
import { ChunkStorage, type PublishedFile } from '../storage/chunk-storage';
import type { UploadIdentifier } from '../identifier/identifier-strategy';
import { FragoEventPublisher } from '../events/frago-event-publisher';
import { FragoEvents } from '../events/frago-events';
import { ChecksumFailedEvent, UploadCompletedEvent } from '../events/upload.events';
import {
  ChecksumMismatchError,
  ChecksumRequiredError,
  FinalizeInProgressError,
  IncompleteUploadError,
  InvalidInputError,
  UnsupportedAlgorithmError,
  UploadExpiredError,
  UploadNotFoundError,
} from '../errors/frago.errors';
import { computeCoverage } from '../domain/coverage';
import { confineRelativePath, numberedAlternative, suffixedAlternative } from '../domain/safe-filename';
import { UploadService } from './upload.service';
import { UploadStore } from './upload-store';
import { IncrementalHasher } from './incremental-hash';

/** The client's finalize request. */
export interface FinalizeRequest {
  checksum?: string;
  algorithm?: string;
}

const WAIT_POLL_MS = 50;
/** Numbered alternatives (`name-1.ext` …) tried before a name carrying the upload id. */
const NUMBERED_NAMES = 9;

/** frago's finalize (`POST /upload/:id/`): coverage check, single claim, checksum, atomic publish. */
@Injectable()
export class FinalizeService {
  private readonly logger = new Logger('nestjs-frago');

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly uploads: UploadService,
    private readonly store: UploadStore,
    private readonly storage: ChunkStorage,
    private readonly events: FragoEventPublisher,
    private readonly hasher: IncrementalHasher,
  ) {}

  /** Finalizes once; concurrent callers wait for the winner, or get `FinalizeInProgressError` (409). */
  async finalize(identifier: UploadIdentifier, id: string, request: FinalizeRequest): Promise<AbstractChunkUpload> {
    return this.finalizeWith(identifier, id, this.checksumRequest(request));
  }

  /**
   * Completes an upload whose client sends no whole-file checksum (tus):
   * the same single claim, coverage check and atomic publish as
   * `finalize()`, without the checksum comparison.
   */
  complete(identifier: UploadIdentifier, id: string): Promise<AbstractChunkUpload> {
    return this.finalizeWith(identifier, id, null);
  }

  private async finalizeWith(identifier: UploadIdentifier, id: string, check: { checksum: string; algorithm: string } | null): Promise<AbstractChunkUpload> {
    const deadline = Date.now() + this.options.finalizeWaitTimeout;
    for (;;) {
      const upload = await this.uploads.get(identifier, id);
      const status = upload.effectiveStatus();
      if (status === UploadStatus.Complete) return upload; // idempotent: same 201 again
      if (status === UploadStatus.Expired) throw new UploadExpiredError();
      const completedMeanwhile = await this.coveredOrCompleted(identifier, upload);
      if (completedMeanwhile) return completedMeanwhile;
      const until = Date.now() + this.options.finalizeLeaseTimeout;
      if (await this.store.claimFinalize(id, until)) {
        const lease = new FinalizeLease(this.store, id, until, this.options.finalizeLeaseTimeout);
        try {
          return await this.finalizeClaimed(upload, check, lease);
        } finally {
          await lease.stop();
        }
      }
      if (Date.now() >= deadline) throw new FinalizeInProgressError();
      await sleep(WAIT_POLL_MS);
    }
  }

  private checksumRequest(request: FinalizeRequest): { checksum: string; algorithm: string } | null {
    const algorithm = (request.algorithm ?? this.options.checksumType).toLowerCase();
    if (!this.options.doChecksum && !request.checksum) return null;
    if (!request.checksum) throw new ChecksumRequiredError();
    if (!isSupportedHash(algorithm)) throw new UnsupportedAlgorithmError(algorithm);
    if (!/^[0-9a-fA-F]{8,256}$/.test(request.checksum)) throw new InvalidInputError('checksum must be a hexadecimal digest');
    return { checksum: request.checksum.toLowerCase(), algorithm };
  }

  /**
   * Checks coverage before claiming. A winner that completes between our read
   * of the upload and of its chunks deletes the chunk rows, which would look
   * like nothing was uploaded: re-read, and answer the same 201 if complete.
   */
  private async coveredOrCompleted(identifier: UploadIdentifier, upload: AbstractChunkUpload): Promise<AbstractChunkUpload | null> {
    try {
      await this.assertCovered(upload);
      return null;
    } catch (error) {
      if (!(error instanceof IncompleteUploadError)) throw error;
      const latest = await this.uploads.get(identifier, upload.id);
      if (latest.status === UploadStatus.Complete) return latest;
      throw error;
    }
  }

  private async assertCovered(upload: AbstractChunkUpload): Promise<void> {
    const chunks = await this.store.committedChunks(upload.id);
    const { missing } = computeCoverage(chunks, upload.totalSize);
    if (missing.length > 0) throw new IncompleteUploadError(missing);
  }

  private async finalizeClaimed(
    upload: AbstractChunkUpload,
    check: { checksum: string; algorithm: string } | null,
    lease: FinalizeLease,
  ): Promise<AbstractChunkUpload> {
    let published = false;
    try {
      await this.assertCovered(upload); // authoritative now that no chunk can be added
      if (check) {
        const actual = await this.hash(upload, check.algorithm);
        if (actual !== check.checksum) {
          this.events.emit(FragoEvents.ChecksumFailed, new ChecksumFailedEvent(upload, check.algorithm, check.checksum, actual));
          throw new ChecksumMismatchError();
        }
      }
      // A finalizer that stalled past its lease (another may hold the claim now) stops here.
      await lease.confirm();
      const file = await this.publish(upload);
      published = true;
      const fields = { checksum: check?.checksum ?? null, checksumAlgo: check?.algorithm ?? null, assembledName: file.relativePath };
      if (!(await this.store.completeUpload(upload.id, fields))) throw new UploadNotFoundError();
      // Only now may the chunk data go: until the completion is recorded, a retried finalize needs it.
      await this.storage.remove(upload.id).catch((error: unknown) => this.logger.warn(`Could not remove chunk data of ${upload.id}: ${errorText(error)}`));
      Object.assign(upload, fields, { status: UploadStatus.Complete, completedAt: new Date(), finalizingUntil: null });
      this.hasher.forget(upload.id);
      this.events.emit(FragoEvents.UploadCompleted, new UploadCompletedEvent(upload, file.location));
      return upload;
    } catch (error) {
      await lease.stop();
      if (published) this.logger.error(`Upload ${upload.id} was published but could not be marked complete; a retried finalize reuses the published file`);
      if (lease.held) await this.store.releaseFinalize(upload.id).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Claims a name in the database, then publishes under it: the first
   * candidate this upload holds (claimed now or by an earlier, interrupted
   * attempt, which the storage then recognises as its own publish) that the
   * storage does not find taken by a file the database does not know.
   */
  private async publish(upload: AbstractChunkUpload): Promise<PublishedFile> {
    for (const name of candidateNames(upload)) {
      if (!(await this.store.claimName(upload.id, name))) continue;
      const file = await this.storage.publish(upload.id, name);
      if (file) return file;
    }
    throw new Error(`No free name to publish upload ${upload.id} under`);
  }

  private async hash(upload: AbstractChunkUpload, algorithm: string): Promise<string> {
    const carried = await this.hasher.digest(upload.id, upload.totalSize, algorithm);
    if (carried !== null) return carried;
    const hash = createHash(algorithm);
    const stream = this.storage.read(upload.id, 0, upload.totalSize - 1, this.options.assembleReadSize);
    for await (const data of stream) hash.update(data as Buffer);
    return hash.digest('hex');
  }
}

/**
 * The upload's sanitised target path, a few numbered alternatives, then names
 * carrying the upload id, which no other upload claims: names never run out,
 * however many uploads share one name, at a bounded number of claims.
 */
function* candidateNames(upload: AbstractChunkUpload): Generator<string> {
  const base = confineRelativePath(upload.assembledPath());
  yield base;
  for (let n = 1; n <= NUMBERED_NAMES; n++) yield numberedAlternative(base, n);
  const own = suffixedAlternative(base, upload.id);
  yield own;
  // Only a file planted outside frago can hold the upload's own name.
  for (let n = 1; n <= NUMBERED_NAMES; n++) yield numberedAlternative(own, n);
}

/**
 * The finalize claim of one request: a short lease (`finalizeLeaseTimeout`)
 * renewed every third of it while the request works, so a crashed
 * finalizer's claim runs out within that lease, however large the file,
 * while a live one keeps it. Renewal is conditional on the value last
 * written: a finalizer whose lease ran out and was taken over learns it.
 */
class FinalizeLease {
  held = true;
  private renewing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: UploadStore,
    private readonly uploadId: string,
    private until: number,
    private readonly leaseMs: number,
  ) {
    this.timer = setInterval(
      () => {
        this.renewing = this.renewing.then(() => this.renew());
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    const next = Date.now() + this.leaseMs;
    try {
      if (await this.store.renewFinalize(this.uploadId, this.until, next)) this.until = next;
      else this.held = false;
    } catch {
      // a failed renewal is retried on the next tick; the lease may still run out
    }
  }

  /**
   * Renews now and throws 409 unless the claim is still this request's (it
   * stalled past its lease and another took it). A renewal that succeeds
   * after the lease ran out is still safe: nobody claimed meanwhile.
   */
  async confirm(): Promise<void> {
    this.renewing = this.renewing.then(() => this.renew());
    await this.renewing;
    if (!this.held) throw new FinalizeInProgressError();
  }

  /** Stops renewing (after the last renewal in flight). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }
}
