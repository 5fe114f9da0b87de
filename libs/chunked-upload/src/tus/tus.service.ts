import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { UploadStatus } from '../entities/upload-status';
import type { UploadIdentifier } from '../identifier/identifier-strategy';
import {
  FinalUploadImmutableError,
  InvalidInputError,
  OffsetMismatchError,
  UploadExpiredError,
  UploadLengthExceededError,
  UploadNotFoundError,
  UploadTooLargeError,
} from '../errors/frago.errors';
import { UploadService } from '../services/upload.service';
import type { TusChecksum, TusMetadata } from './tus-headers';
import { TusLedger } from './tus-ledger';
import { TusWriter } from './tus-writer';
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
 * The tus operations on the frago ledger: a tus upload is an
 * upload row like any other, each PATCH a chunk row reserved and committed as
 * frago chunks are, completion the same finalize. Free of HTTP.
 */
@Injectable()
export class TusService {
  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly uploads: UploadService,
    private readonly ledger: TusLedger,
    private readonly writer: TusWriter,
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
    const placement = request.partial && !request.deferLength ? { group: placementGroup(identifier) } : undefined;
    const upload = await this.uploads.start(identifier, tusFilename(request.metadata, id), totalSize, { id, deferredLength: request.deferLength, placement });
    await this.ledger.insert({
      uploadId: id,
      metadata: request.metadata.raw,
      lengthDeferred: request.deferLength,
      concat: request.partial ? 'partial' : null,
      parts: null,
      finalId: null,
    });
    return upload;
  }

  /** HEAD: offset and length; an upload whose bytes are all stored but not yet published is completed now. */
  async info(identifier: UploadIdentifier, id: string): Promise<TusInfo> {
    const upload = await this.uploads.get(identifier, id);
    const tus = await this.ledger.find(id);
    if (tus?.finalId) throw new UploadNotFoundError(); // a partial consumed by its final upload
    if (upload.effectiveStatus() === UploadStatus.Expired) throw new UploadExpiredError();
    if (upload.status === UploadStatus.Complete) return { upload, tus, offset: upload.totalSize, length: upload.totalSize };
    const offset = await this.ledger.offset(id);
    const length = tus?.lengthDeferred ? null : upload.totalSize;
    if (length === offset && tus?.concat !== 'partial') return { upload: await this.writer.complete(identifier, upload), tus, offset, length };
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
    const current = await this.ledger.offset(id);
    // tus §PATCH: "The Upload-Offset header's value MUST be equal to the current offset of the resource. […]
    // If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
    if (request.offset !== current) throw new OffsetMismatchError(current);
    const room = (length ?? this.options.maxUploadSize) - current;
    if (request.contentLength !== undefined && request.contentLength > room) throw new UploadLengthExceededError(length ?? this.options.maxUploadSize);
    const size = request.contentLength ?? room;
    let offset = current;
    if (size > 0) offset = await this.writer.write(upload, current, size, request.checksum, body);
    if (length !== null && offset === length && tus?.concat !== 'partial') return { upload: await this.writer.complete(identifier, upload), offset };
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
      if (declared !== undefined && declared !== upload.totalSize)
        throw new InvalidInputError(`Upload-Length is already ${upload.totalSize}; it cannot change`);
      return upload.totalSize;
    }
    if (declared === undefined) return null;
    if (declared > this.options.maxUploadSize) throw new UploadTooLargeError(this.options.maxUploadSize);
    if (declared === 0) throw new InvalidInputError('Upload-Length must be at least 1 byte');
    const current = await this.ledger.offset(upload.id);
    if (declared < current) throw new InvalidInputError(`Upload-Length ${declared} is below the bytes already stored (${current})`);
    await this.ledger.settleLength(upload.id, declared);
    upload.totalSize = declared;
    return declared;
  }
}

/** The file name from the `filename` metadata (validated by start() as for frago), else the upload's UUID. */
export function tusFilename(metadata: TusMetadata, id: string): string {
  const name = metadata.values.get('filename') ?? metadata.values.get('name');
  return name && name.length > 0 ? name : id;
}

/** Partial uploads of one caller go side by side in storage (a string or number identifier; any other kind shares one group). */
function placementGroup(identifier: UploadIdentifier): string {
  return typeof identifier === 'string' || typeof identifier === 'number' ? `owner:${identifier}` : 'shared';
}
