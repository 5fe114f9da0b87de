import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
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
  FinalUploadImmutableError,
  FragoError,
  InvalidInputError,
  OffsetMismatchError,
  UploadCompleteError,
  UploadExpiredError,
  UploadLengthExceededError,
  UploadNotFoundError,
  UploadTooLargeError,
} from '../errors/frago.errors';
import { UploadService } from '../services/upload.service';
import { UploadStore } from '../services/upload-store';
import { FinalizeService } from '../services/finalize.service';
import { HashingMeter } from '../services/hashing-meter';
import type { TusChecksum, TusMetadata } from './tus-headers';
import { TusLedger } from './tus-ledger';
import { contiguousOffset } from './tus-offset';
import type { FragoTusUpload } from './tus-upload.entity';

/** What HEAD reports about a tus upload. */
export interface TusInfo {
  upload: AbstractChunkUpload;
  tus: FragoTusUpload | null;
  offset: number;
  /** Null while the length is deferred. */
  length: number | null;
}

/** A creation request (POST) of a plain or partial upload. */
export interface TusCreation {
  length?: number;
  deferLength: boolean;
  metadata: TusMetadata;
  partial: boolean;
}

/** A PATCH request's facts. */
export interface TusPatch {
  offset: number;
  /** `Upload-Length` declared now (creation-defer-length). */
  length?: number;
  contentLength?: number;
  checksum?: TusChecksum;
}

/** The body of a PATCH (or creation-with-upload): the socket stream. */
export interface TusBody {
  stream: Readable;
  /** Aborts when the connection is cut before the body ended. */
  signal: AbortSignal;
  /** Throws the rest of the body away when the PATCH is refused. */
  discard(): void;
}

/**
 * The tus operations on the frago ledger (SPEC §11): a tus upload is an
 * upload row like any other, each PATCH a chunk row reserved and committed as
 * frago chunks are, completion the same finalize. Free of HTTP.
 */
@Injectable()
export class TusService {
  private readonly logger = new Logger('nestjs-frago');

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly uploads: UploadService,
    private readonly store: UploadStore,
    private readonly storage: ChunkStorage,
    private readonly finalizer: FinalizeService,
    private readonly events: FragoEventPublisher,
    private readonly ledger: TusLedger,
  ) {}

  /** Creation: a new upload row (plus its tus row); `upload.started` fires. */
  async create(identifier: UploadIdentifier, request: TusCreation): Promise<AbstractChunkUpload> {
    // tus §Creation: "The request MUST include one of the following headers: a) Upload-Length […] b) Upload-Defer-Length: 1".
    if (request.length === undefined && !request.deferLength) throw new InvalidInputError('Upload-Length or Upload-Defer-Length: 1 header required');
    if (request.length !== undefined && request.deferLength) throw new InvalidInputError('Send either Upload-Length or Upload-Defer-Length, not both');
    // tus §Creation: "If the length of the upload exceeds the maximum […] the Server MUST respond with the 413 Request Entity Too Large status."
    if (request.length !== undefined && request.length > this.options.maxUploadSize) throw new UploadTooLargeError(this.options.maxUploadSize);
    if (request.length === 0) throw new InvalidInputError('Upload-Length must be at least 1 byte');
    const id = randomUUID();
    const totalSize = request.length ?? this.options.maxUploadSize;
    const upload = await this.uploads.start(identifier, tusFilename(request.metadata, id), totalSize, { id, deferredLength: request.deferLength });
    await this.ledger.insert({ uploadId: id, metadata: request.metadata.raw, lengthDeferred: request.deferLength, concat: request.partial ? 'partial' : null, parts: null, finalId: null });
    return upload;
  }

  /** HEAD: offset and length; an upload whose bytes are all stored but not yet published is completed now. */
  async info(identifier: UploadIdentifier, id: string): Promise<TusInfo> {
    const upload = await this.uploads.get(identifier, id);
    const tus = await this.ledger.find(id);
    if (tus?.finalId) throw new UploadNotFoundError(); // a partial consumed by its final upload
    if (upload.effectiveStatus() === UploadStatus.Expired) throw new UploadExpiredError();
    if (upload.status === UploadStatus.Complete) return { upload, tus, offset: upload.totalSize, length: upload.totalSize };
    const offset = contiguousOffset(await this.store.committedChunks(id));
    const length = tus?.lengthDeferred ? null : upload.totalSize;
    if (length === offset && tus?.concat !== 'partial') return { upload: await this.complete(identifier, upload), tus, offset, length };
    return { upload, tus, offset, length };
  }

  /** PATCH: stores the body at `offset`, counts what is durable, completes the upload at its last byte. */
  async patch(identifier: UploadIdentifier, id: string, request: TusPatch, body: TusBody): Promise<{ upload: AbstractChunkUpload; offset: number }> {
    const upload = await this.uploads.get(identifier, id);
    const tus = await this.ledger.find(id);
    // tus §Concatenation: "The Server MUST respond with the 403 Forbidden status to PATCH requests against a final upload URL".
    if (tus?.concat === 'final' || tus?.finalId) throw new FinalUploadImmutableError();
    const status = upload.effectiveStatus();
    if (status === UploadStatus.Expired) throw new UploadExpiredError();
    if (status === UploadStatus.Complete) {
      if (request.offset === upload.totalSize && !request.contentLength) return { upload, offset: upload.totalSize };
      throw new OffsetMismatchError(upload.totalSize);
    }
    const length = await this.settleLength(upload, tus, request.length);
    const current = contiguousOffset(await this.store.committedChunks(id));
    // tus §PATCH: "The Upload-Offset header's value MUST be equal to the current offset of the resource. […]
    // If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
    if (request.offset !== current) throw new OffsetMismatchError(current);
    const room = (length ?? this.options.maxUploadSize) - current;
    if (request.contentLength !== undefined && request.contentLength > room) throw new UploadLengthExceededError(length ?? this.options.maxUploadSize);
    const size = request.contentLength ?? room;
    let offset = current;
    if (size > 0) offset = await this.write(upload, current, size, request.checksum, body);
    if (length !== null && offset === length && tus?.concat !== 'partial') return { upload: await this.complete(identifier, upload), offset };
    return { upload, offset };
  }

  /** Termination: the upload and its data are removed; `upload.deleted` fires. */
  async terminate(identifier: UploadIdentifier, id: string): Promise<void> {
    await this.uploads.abort(identifier, id);
    await this.ledger.remove(id);
  }

  /** creation-defer-length: the first `Upload-Length` sets it for good; a different one later is a 400. */
  private async settleLength(upload: AbstractChunkUpload, tus: FragoTusUpload | null, declared: number | undefined): Promise<number | null> {
    if (!tus?.lengthDeferred) {
      if (declared !== undefined && declared !== upload.totalSize) throw new InvalidInputError(`Upload-Length is already ${upload.totalSize}; it cannot change`);
      return upload.totalSize;
    }
    if (declared === undefined) return null;
    if (declared > this.options.maxUploadSize) throw new UploadTooLargeError(this.options.maxUploadSize);
    if (declared === 0) throw new InvalidInputError('Upload-Length must be at least 1 byte');
    const current = contiguousOffset(await this.store.committedChunks(upload.id));
    if (declared < current) throw new InvalidInputError(`Upload-Length ${declared} is below the bytes already stored (${current})`);
    await this.store.setTotalSize(upload.id, declared);
    await this.ledger.declareLength(upload.id);
    upload.totalSize = declared;
    return declared;
  }

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
  private async write(upload: AbstractChunkUpload, offset: number, size: number, checksum: TusChecksum | undefined, body: TusBody): Promise<number> {
    const reservation = await this.store.reserveChunk(upload.id, offset, offset + size - 1, this.options.chunkLeaseTimeout);
    if (reservation.kind !== 'reserved') {
      body.discard();
      if (reservation.kind === 'not-writable') throw notWritable(reservation.status);
      throw new OffsetMismatchError(null);
    }
    const reservationId = reservation.id;
    const fence: WriteFence = {
      tookOver: reservation.tookOver,
      stillReserved: () => this.store.renewLease(reservationId, Date.now() + this.options.chunkLeaseTimeout),
    };
    const renew = setInterval(() => {
      this.store.renewLease(reservationId, Date.now() + this.options.chunkLeaseTimeout).catch(() => undefined);
    }, Math.max(50, Math.floor(this.options.chunkLeaseTimeout / 3)));
    let counted = 0;
    try {
      const meter = new HashingMeter(size, checksum ? [checksum.algorithm] : []);
      const measured = Readable.from(meter.measure(body.stream), { objectMode: false });
      const result = await this.storage.writeAvailable(upload.id, offset, measured, undefined, fence).catch(async (error: unknown) => {
        // The data vanished (a DELETE, expiry) or the range was taken over / published meanwhile: say why, as HEAD would.
        if (error instanceof UploadNotFoundError || error instanceof WriteFencedError) throw await this.lostReservation(upload.id);
        throw error;
      });
      if (result.error instanceof FragoError) throw new UploadLengthExceededError(offset + size);
      // tus §Checksum: "In the first two cases the uploaded chunk MUST be discarded, and the upload and its offset MUST NOT be updated."
      // A cut body cannot be verified, so with a checksum it counts nothing.
      const failure = result.error ?? (body.signal.aborted ? (body.signal.reason as unknown) : undefined);
      if (checksum && (failure !== undefined || !meter.digest(checksum.algorithm).equals(checksum.digest))) {
        throw failure === undefined ? new ChunkChecksumMismatchError() : asError(failure);
      }
      clearInterval(renew);
      if (result.bytes > 0 && !(await this.store.commitChunkUpTo(reservationId, offset, offset + result.bytes - 1))) throw await this.lostReservation(upload.id);
      counted = result.bytes;
      if (counted > 0) this.events.emit(FragoEvents.ChunkReceived, new ChunkReceivedEvent(upload, offset, offset + counted - 1, counted));
      // tus §PATCH: "The Server SHOULD always attempt to store as much of the received data as possible." A cut
      // body keeps its durable prefix (counted above); the request itself failed, so its error goes on.
      if (failure !== undefined) throw asError(failure);
      return offset + counted;
    } catch (error) {
      body.discard();
      if (counted === 0) await this.store.releaseChunk(reservationId).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(renew);
    }
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
    return new OffsetMismatchError(contiguousOffset(await this.store.committedChunks(id)));
  }

  /** Publishes through frago's finalize (same claim, same atomic no-overwrite publish, `upload.completed` once). */
  private async complete(identifier: UploadIdentifier, upload: AbstractChunkUpload): Promise<AbstractChunkUpload> {
    try {
      return await this.finalizer.complete(identifier, upload.id);
    } catch (error) {
      // The bytes are stored; a later HEAD or PATCH completes it. The client is told the offset it reached.
      this.logger.warn(`tus upload ${upload.id} is fully stored but not completed yet: ${(error as Error).message}`);
      return upload;
    }
  }
}

/** The file name from the `filename` metadata (validated by start() as for frago), else the upload's UUID. */
export function tusFilename(metadata: TusMetadata, id: string): string {
  const name = metadata.values.get('filename') ?? metadata.values.get('name');
  return name && name.length > 0 ? name : id;
}

/** A failure of the body (a cut, an abort) as the Error the filter answers. */
function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure));
}

function notWritable(status: UploadStatus | 'finalizing' | 'gone'): FragoError {
  if (status === 'gone') return new UploadNotFoundError();
  if (status === UploadStatus.Expired) return new UploadExpiredError();
  if (status === UploadStatus.Complete) return new UploadCompleteError();
  return new OffsetMismatchError(null);
}
