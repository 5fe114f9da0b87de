import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { UploadStatus } from '../entities/upload-status';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { ChunkStorage, WriteFencedError, type WriteFence } from '../storage/chunk-storage';
import type { UploadIdentifier } from '../identifier/identifier-strategy';
import { FragoEventPublisher } from '../events/frago-event-publisher';
import { FragoEvents } from '../events/frago-events';
import { ChunkReceivedEvent } from '../events/upload.events';
import {
  ChunkBusyError,
  ChunkOverlapError,
  ChunkSizeMismatchError,
  ChunkTooLargeError,
  DigestMismatchError,
  FinalizeInProgressError,
  FragoError,
  InvalidContentRangeError,
  StorageUnavailableError,
  UploadCompleteError,
  UploadExpiredError,
  UploadNotFoundError,
} from '../errors/frago.errors';
import type { ContentRange, ExpectedDigest } from '../domain/chunk-request.types';
import { HashingMeter } from './hashing-meter';
import { IncrementalHasher, type InlineHash } from './incremental-hash';
import { UploadService } from './upload.service';
import { UploadStore, type Reservation } from './upload-store';
import { TwinWaits } from './twin-waits';
import { PendingReleases } from './pending-releases';

/** Where the chunk bytes come from; opened only once the range is reserved. */
export interface ChunkSource {
  /**
   * Resolves the chunk bytes (waits for the multipart `file` part); rejects with `NoChunkError`.
   * The iterable ends once the whole body has arrived and parsed; it fails with a domain error
   * (malformed body, 4xx) or, when the client left, an abort.
   */
  open(): Promise<AsyncIterable<Buffer>>;
  /** Throws the body away when the chunk is refused or a duplicate. */
  discard(): void;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** The result of a chunk PUT. */
export interface ChunkResult {
  range: ContentRange;
  duplicate: boolean;
}

/** Verify, store, record and de-duplicate a chunk: frago's `PUT /upload/:id/` with a Content-Range. */
@Injectable()
export class ChunkService {
  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly uploads: UploadService,
    private readonly store: UploadStore,
    private readonly storage: ChunkStorage,
    private readonly events: FragoEventPublisher,
    private readonly hasher: IncrementalHasher,
    private readonly twins: TwinWaits,
    private readonly pendingReleases: PendingReleases,
  ) {}

  async put(identifier: UploadIdentifier, id: string, range: ContentRange, digests: ExpectedDigest[], source: ChunkSource): Promise<ChunkResult> {
    if (range.size > this.options.maxChunkSize) throw new ChunkTooLargeError(this.options.maxChunkSize);
    let upload = await this.uploads.getForChunk(identifier, id);
    // The short-lived lookup cache can predate a completion (or a tus length being set): before
    // refusing on the total, read the upload afresh, so a complete upload answers 409 as it should.
    if (range.total !== upload.totalSize) upload = await this.uploads.get(identifier, id);
    assertWritable(upload.effectiveStatus());
    if (range.total !== upload.totalSize) {
      throw new InvalidContentRangeError(`Content-Range TOTAL ${range.total} differs from the upload's total_size ${upload.totalSize}`);
    }
    const reservation = await this.reserve(id, range, source.signal);
    if (reservation.kind === 'duplicate') {
      source.discard();
      return { range, duplicate: true };
    }
    const inline = await this.write(upload, reservation, range, digests, source);
    this.hasher.chunkCommitted(upload.id, range.start, range.end, inline);
    this.events.emit(FragoEvents.ChunkReceived, new ChunkReceivedEvent(upload, range.start, range.end, range.size));
    return { range, duplicate: false };
  }

  /**
   * Reserves the range. An identical chunk in flight elsewhere (a twin) is waited for, never
   * refused with 409 (a twin gets the same answer as the chunk it repeats): cheaply (no database work while
   * it waits, see TwinWaits) and within bounds, past which it answers 503 with Retry-After.
   */
  private async reserve(id: string, range: ContentRange, signal: AbortSignal): Promise<Extract<Reservation, { kind: 'reserved' | 'duplicate' }>> {
    let leave: (() => void) | null = null;
    let deadline = 0;
    try {
      for (;;) {
        // The id is chosen here, so a reservation whose commit went unanswered (the connection broke) can still be dropped.
        const reservationId = randomUUID();
        const reservation = await this.store
          .reserveChunk(id, range.start, range.end, this.options.chunkLeaseTimeout, reservationId)
          .catch(async (error: unknown) => {
            await this.pendingReleases.release(reservationId, id, range.start, range.end);
            throw error;
          });
        switch (reservation.kind) {
          case 'reserved':
          case 'duplicate':
            return reservation;
          case 'overlap':
            throw new ChunkOverlapError(reservation.conflicting);
          case 'not-writable':
            if (reservation.status === 'finalizing') throw new FinalizeInProgressError();
            if (reservation.status === 'gone') throw new UploadNotFoundError();
            assertWritable(reservation.status);
            throw new ChunkBusyError();
          case 'twin':
            // The range may be held by this process's own failed chunk, one the database did not let it drop.
            if (await this.pendingReleases.releaseFor(id, range.start, range.end)) continue;
            if (leave === null) {
              leave = this.twins.enter();
              deadline = Date.now() + this.options.twinWaitTimeout;
            }
            await this.twins.wait(id, range.start, range.end, signal, deadline);
        }
      }
    } finally {
      leave?.();
    }
  }

  /**
   * Streams the body through size/hash checks into storage, then commits the reservation. A chunk
   * that continues the upload's hashed prefix feeds the whole-file hash as it streams (returned, for
   * `chunkCommitted`), so it is never read back.
   */
  private async write(
    upload: AbstractChunkUpload,
    reservation: Extract<Reservation, { kind: 'reserved' }>,
    range: ContentRange,
    digests: ExpectedDigest[],
    source: ChunkSource,
  ): Promise<InlineHash | null> {
    const reservationId = reservation.id;
    // Checked by the storage once it has fenced off publishers and takeovers (see WriteFence).
    // A database failure while the storage checks the fence is the database's (503 DATABASE_UNAVAILABLE), not the storage's.
    let fenceFailure: { error: unknown } | null = null;
    const fence: WriteFence = {
      tookOver: reservation.tookOver,
      stillReserved: () =>
        this.store.renewLease(reservationId, Date.now() + this.options.chunkLeaseTimeout).catch((error: unknown) => {
          fenceFailure = { error };
          throw error;
        }),
    };
    const renew = setInterval(
      () => {
        this.store.renewLease(reservationId, Date.now() + this.options.chunkLeaseTimeout).catch(() => undefined);
      },
      Math.max(50, Math.floor(this.options.chunkLeaseTimeout / 3)),
    );
    const inline = this.hasher.beginInline(upload.id, range.start);
    const md5 = digests.find((digest) => digest.algorithm === 'md5')?.value;
    // A storage that has the MD5 checked where it stores the bytes spares hashing them for it here.
    const hashed = md5 && this.storage.checksContentMd5 ? digests.filter((digest) => digest.algorithm !== 'md5') : digests;
    try {
      const meter = new HashingMeter(
        range.size,
        hashed.map((digest) => digest.algorithm),
        inline?.hash,
      );
      // One pipeline (the storage's) owns the body: its errors and aborts end the write, never the socket.
      const body = Readable.from(meter.measure(await source.open()), { objectMode: false });
      await this.storage.writeChunk(upload.id, range.start, body, source.signal, fence, { size: range.size, md5 }).catch(async (error: unknown) => {
        // The data can vanish under a reserved write (a DELETE, or the sweeper expired it): answer why, as GET would.
        if (error instanceof UploadNotFoundError || error instanceof WriteFencedError) throw await this.lostReservation(upload.id);
        if (fenceFailure) throw fenceFailure.error;
        throw storageFailure(error, source.signal);
      });
      if (meter.bytes !== range.size) throw new ChunkSizeMismatchError(range.size, meter.bytes);
      const wrong = hashed.find((digest) => !meter.digest(digest.algorithm).equals(digest.value));
      if (wrong) throw new DigestMismatchError(wrong.header);
      clearInterval(renew);
      if (!(await this.store.commitChunk(reservationId))) throw await this.lostReservation(upload.id);
      return inline;
    } catch (error) {
      clearInterval(renew);
      this.hasher.abandonInline(upload.id, inline);
      source.discard();
      await this.pendingReleases.release(reservationId, upload.id, range.start, range.end);
      // The source aborted for a reason the client is told (a body too slow, a half-close): that
      // reason, not the storage's abort error it caused.
      const reason: unknown = source.signal.aborted ? source.signal.reason : undefined;
      throw reason instanceof FragoError ? reason : error;
    } finally {
      // Committed (the twins answer duplicate) or released (one of them writes it): they try now.
      this.twins.finished(upload.id, range.start, range.end);
    }
  }

  /** Why a reservation vanished before it could commit. */
  private async lostReservation(id: string): Promise<FragoError> {
    const upload = await this.store.findUpload(id, {});
    if (!upload) return new UploadNotFoundError();
    if (upload.effectiveStatus() === UploadStatus.Expired) return new UploadExpiredError();
    if (upload.status === UploadStatus.Complete) return new UploadCompleteError();
    return new ChunkBusyError();
  }
}

function assertWritable(status: UploadStatus): void {
  if (status === UploadStatus.Complete) throw new UploadCompleteError();
  if (status === UploadStatus.Expired) throw new UploadExpiredError();
}

/**
 * Domain errors pass; when the source's signal aborted the client went away and its error stays as
 * it is (the HTTP edge recognises it); the rest is a retryable storage failure.
 */
function storageFailure(error: unknown, signal: AbortSignal): unknown {
  if (error instanceof FragoError || signal.aborted) return error;
  return new StorageUnavailableError();
}
