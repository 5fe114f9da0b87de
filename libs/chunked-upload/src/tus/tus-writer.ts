import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { UploadStatus } from '../entities/upload-status';
import type { UploadIdentifier } from '../identifier/identifier-strategy';
import { ChunkStorage, WriteFencedError, type WriteFence } from '../storage/chunk-storage';
import { FragoEventPublisher } from '../events/frago-event-publisher';
import { FragoEvents } from '../events/frago-events';
import { ChunkReceivedEvent } from '../events/upload.events';
import {
  ChunkChecksumMismatchError,
  FragoError,
  InvalidInputError,
  OffsetMismatchError,
  UploadCompleteError,
  UploadExpiredError,
  UploadLengthExceededError,
  UploadNotFoundError,
} from '../errors/frago.errors';
import { UploadStore } from '../services/upload-store';
import { FinalizeService } from '../services/finalize.service';
import { PendingReleases } from '../services/pending-releases';
import type { TusChecksum } from './tus-headers';
import { TusLedger } from './tus-ledger';
import { TusMeter } from './tus-meter';
import type { TusBody } from './tus.service';

/**
 * Where tus bytes meet the ledger (internal): a PATCH body stored under a
 * reservation and counted once durable, the partials of a concatenation made
 * the final upload's, completion through frago's finalize.
 */
@Injectable()
export class TusWriter {
  private readonly logger = new Logger('nestjs-frago');

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly ledger: TusLedger,
    private readonly storage: ChunkStorage,
    private readonly store: UploadStore,
    private readonly finalizer: FinalizeService,
    private readonly events: FragoEventPublisher,
    private readonly pendingReleases: PendingReleases,
  ) {}

  /**
   * Reserves `[offset, offset + size)` in the database (so two PATCHes at one
   * offset never both succeed, on any instance), streams the body into
   * storage, and commits the durable part. Returns the new offset.
   *
   * The write is fenced as a frago chunk's is (`WriteFence`): the storage
   * checks the reservation once it has shut publishers and takeovers out, so
   * a PATCH whose writer stalled past its lease never writes after the range
   * was taken over, nor into the published file.
   */
  async write(upload: AbstractChunkUpload, offset: number, size: number, checksum: TusChecksum | undefined, body: TusBody): Promise<number> {
    const end = offset + size - 1;
    const reservationId = randomUUID();
    const reservation = await this.store.reserveChunk(upload.id, offset, end, this.options.chunkLeaseTimeout, reservationId).catch(async (error: unknown) => {
      // Unanswered (the connection broke): it may have been stored, and would hold the offset.
      await this.pendingReleases.release(reservationId, upload.id, offset, end);
      throw error;
    });
    if (reservation.kind !== 'reserved') {
      body.discard();
      if (reservation.kind === 'not-writable') throw notWritable(reservation.status);
      throw new OffsetMismatchError(null);
    }
    const renewLease = (): Promise<boolean> => this.store.renewLease(reservationId, Date.now() + this.options.chunkLeaseTimeout);
    const fence: WriteFence = { tookOver: reservation.tookOver, stillReserved: renewLease };
    const renew = setInterval(() => void renewLease().catch(() => undefined), Math.max(50, Math.floor(this.options.chunkLeaseTimeout / 3)));
    let counted = 0;
    try {
      const meter = new TusMeter(size, checksum?.algorithm);
      body.stream.pipe(meter);
      const result = await this.storage.writeAvailable(upload.id, offset, meter, undefined, fence).catch(async (error: unknown) => {
        // The data vanished (a DELETE, expiry) or the range was taken over / published meanwhile: say why, as HEAD would.
        if (error instanceof UploadNotFoundError || error instanceof WriteFencedError) throw await this.lostReservation(upload.id);
        throw error;
      });
      if (result.error instanceof FragoError) throw new UploadLengthExceededError(offset + size);
      // tus §Checksum: "In the first two cases the uploaded chunk MUST be discarded, and the upload and its offset MUST NOT be updated."
      // A cut body cannot be verified, so with a checksum it counts nothing.
      const failure = result.error ?? (body.signal.aborted ? (body.signal.reason as unknown) : undefined);
      if (checksum && (failure !== undefined || !meter.digest().equals(checksum.digest))) {
        throw failure === undefined ? new ChunkChecksumMismatchError() : asError(failure);
      }
      clearInterval(renew);
      if (result.bytes > 0 && !(await this.store.commitChunkUpTo(reservationId, offset, offset + result.bytes - 1)))
        throw await this.lostReservation(upload.id);
      counted = result.bytes;
      if (counted > 0) this.events.emit(FragoEvents.ChunkReceived, new ChunkReceivedEvent(upload, offset, offset + counted - 1, counted));
      // tus §PATCH: "The Server SHOULD always attempt to store as much of the received data as possible." A cut
      // (or too slow) body keeps its durable prefix (counted above); the request itself failed, so its error goes on.
      if (failure !== undefined) throw asError(failure);
      return offset + counted;
    } catch (error) {
      body.discard();
      if (counted === 0) await this.pendingReleases.release(reservationId, upload.id, offset, end);
      throw error;
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * The partials' bytes as the final upload's, in order, as one recorded
   * chunk over the whole range (reserved first, so no other writer can touch
   * it). Inside the storage where it can: local disk moves the first
   * partial's file into place and copies the rest; S3 copies server-side.
   */
  async concatenate(finalId: string, parts: ReadonlyArray<{ id: string; size: number }>): Promise<void> {
    const total = parts.reduce((sum, part) => sum + part.size, 0);
    const reservation = await this.store.reserveChunk(finalId, 0, total - 1, this.options.chunkLeaseTimeout);
    if (reservation.kind !== 'reserved') throw new InvalidInputError('The final upload is being written by another request');
    const written = await this.storage.concatenate(finalId, parts, this.options.assembleReadSize);
    if (written !== total || !(await this.store.commitChunk(reservation.id))) throw new Error(`Concatenating the partial uploads into ${finalId} failed`);
  }

  /** A consumed partial upload: its row, its data, its tus row. */
  async removePartial(id: string): Promise<void> {
    try {
      await this.store.deleteUpload(id);
      await this.storage.remove(id);
      await this.ledger.remove(id);
    } catch (error) {
      this.logger.warn(`Could not remove partial upload ${id}: ${(error as Error).message}`);
    }
  }

  /** Publishes through frago's finalize (same claim, same atomic no-overwrite publish, `upload.completed` once). */
  async complete(identifier: UploadIdentifier, upload: AbstractChunkUpload): Promise<AbstractChunkUpload> {
    try {
      return await this.finalizer.complete(identifier, upload.id);
    } catch (error) {
      // The bytes are stored; a later HEAD or PATCH completes it. The client is told the offset it reached.
      this.logger.warn(`tus upload ${upload.id} is fully stored but not completed yet: ${(error as Error).message}`);
      return upload;
    }
  }

  /** Publishes a final concatenation (its errors go to the client). */
  completeFinal(identifier: UploadIdentifier, finalId: string): Promise<AbstractChunkUpload> {
    return this.finalizer.complete(identifier, finalId);
  }

  /**
   * Why a reservation vanished before it counted: the upload is gone (404),
   * expired (410) or complete, or another PATCH took the range over; the
   * last two are a conflict on the offset (409, tus §PATCH), with the
   * current one.
   */
  private async lostReservation(id: string): Promise<FragoError> {
    const upload = await this.store.findUpload(id, {});
    if (!upload) return new UploadNotFoundError();
    if (upload.effectiveStatus() === UploadStatus.Expired) return new UploadExpiredError();
    if (upload.status === UploadStatus.Complete) return new OffsetMismatchError(upload.totalSize);
    return new OffsetMismatchError(await this.ledger.offset(id));
  }
}

/** A failure of the body (a cut, an abort, a too slow sender) as the Error the filter answers. */
function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure));
}

function notWritable(status: UploadStatus | 'finalizing' | 'gone'): FragoError {
  if (status === 'gone') return new UploadNotFoundError();
  if (status === UploadStatus.Expired) return new UploadExpiredError();
  if (status === UploadStatus.Complete) return new UploadCompleteError();
  return new OffsetMismatchError(null);
}
