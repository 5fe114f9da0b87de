/**
 * The errors of the frago protocol: a malformed request, the upload's state, finalize,
 * listing and quotas. Also the one place every domain error is exported from: the base
 * (`frago-error.ts`), the tus endpoint's (`tus.errors.ts`) and the retry-later ones
 * (`unavailable.errors.ts`).
 */
import type { ByteRange } from '../protocol/wire.types';
import { FragoError } from './frago-error';

export { FragoError, type FragoErrorCode } from './frago-error';
export * from './tus.errors';
export * from './unavailable.errors';

/** A request field, header or body is malformed (400). */
export class InvalidInputError extends FragoError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

/** The Content-Range header is missing, malformed or inconsistent (400). */
export class InvalidContentRangeError extends FragoError {
  constructor(message: string) {
    super('INVALID_CONTENT_RANGE', message);
  }
}

/** The chunk body's length differs from the Content-Range (400). */
export class ChunkSizeMismatchError extends FragoError {
  constructor(expected: number, received: number) {
    super('CHUNK_SIZE_MISMATCH', `Chunk size mismatch: Content-Range announces ${expected} bytes, the body had ${received}`);
  }
}

/** The PUT carried no chunk bytes (no `file` part, empty body) (400). */
export class NoChunkError extends FragoError {
  constructor() {
    super('NO_CHUNK', 'No chunk file was sent: use a multipart field "file" or an application/octet-stream body');
  }
}

/**
 * The multipart body cannot be parsed (it ends before its closing boundary, a
 * part header is malformed, …) (400). A client's fault: retrying the same
 * bytes fails the same way. Nothing was recorded.
 */
export class MalformedMultipartError extends FragoError {
  constructor(
    reason: string,
    private readonly fastifyCode?: string,
  ) {
    super('MALFORMED_MULTIPART', `Malformed multipart body: ${reason}`);
  }

  override get wireCode(): string {
    return this.fastifyCode ?? this.code;
  }
}

/** The multipart body has more parts, files or fields than the chunk route accepts (413); `wireCode` is @fastify/multipart's. */
export class MultipartLimitError extends FragoError {
  constructor(
    private readonly fastifyCode: string,
    what: string,
  ) {
    super('MULTIPART_LIMIT', `The multipart body has too many ${what}`);
  }

  override get wireCode(): string {
    return this.fastifyCode;
  }
}

/** A Content-Digest or Content-MD5 header does not match the chunk bytes (400). */
export class DigestMismatchError extends FragoError {
  constructor(header: string) {
    super('DIGEST_MISMATCH', `${header} does not match the chunk bytes; nothing was stored, send the chunk again`);
  }
}

/** No upload with that id exists for this caller (404). */
export class UploadNotFoundError extends FragoError {
  constructor() {
    super('UPLOAD_NOT_FOUND', 'Upload not found');
  }
}

/** The upload has expired (410). */
export class UploadExpiredError extends FragoError {
  constructor() {
    super('UPLOAD_EXPIRED', 'Upload expired');
  }
}

/** The upload is complete; it takes no more chunks (409). */
export class UploadCompleteError extends FragoError {
  constructor() {
    super('UPLOAD_COMPLETE', 'Upload is already complete');
  }
}

/** The range overlaps a different stored (or in-flight) chunk (409). */
export class ChunkOverlapError extends FragoError {
  constructor(public readonly conflicting: ByteRange) {
    super('CHUNK_OVERLAP', `Chunk overlaps the stored chunk ${conflicting.start}-${conflicting.end}`);
  }
}

/** An identical chunk is being written by another request for too long; retry (409). */
export class ChunkBusyError extends FragoError {
  constructor() {
    super('CHUNK_BUSY', 'The same chunk is being uploaded by another request; retry later');
  }
}

/** `total_size` exceeds `maxUploadSize` (413). */
export class UploadTooLargeError extends FragoError {
  constructor(limit: number) {
    super('UPLOAD_TOO_LARGE', `total_size exceeds the maximum upload size of ${limit} bytes`);
  }
}

/** The chunk exceeds `maxChunkSize` (413). */
export class ChunkTooLargeError extends FragoError {
  constructor(limit: number) {
    super('CHUNK_TOO_LARGE', `Chunk exceeds the maximum chunk size of ${limit} bytes`);
  }
}

/** Finalize was asked before every byte was covered (400); lists the gaps. */
export class IncompleteUploadError extends FragoError {
  constructor(public readonly missing: ByteRange[]) {
    super('INCOMPLETE_UPLOAD', 'Not all chunks uploaded');
  }
}

/** `doChecksum` is on and finalize carried no checksum (400). */
export class ChecksumRequiredError extends FragoError {
  constructor() {
    super('CHECKSUM_REQUIRED', 'Checksum required');
  }
}

/** The checksum algorithm is not supported (400). */
export class UnsupportedAlgorithmError extends FragoError {
  constructor(algorithm: string) {
    super('UNSUPPORTED_ALGORITHM', `Unsupported checksum algorithm: ${algorithm.slice(0, 40)}`);
  }
}

/** The assembled bytes do not match the client's checksum (400); the upload stays resumable. */
export class ChecksumMismatchError extends FragoError {
  constructor() {
    super('CHECKSUM_MISMATCH', 'Checksum mismatch');
  }
}

/** Another request is finalizing this upload right now; retry (409). */
export class FinalizeInProgressError extends FragoError {
  constructor() {
    super('FINALIZE_IN_PROGRESS', 'Upload is being finalized');
  }
}

/** Listing uploads needs an identified caller (403 in anonymous mode). */
export class ListForbiddenError extends FragoError {
  constructor() {
    super('LIST_FORBIDDEN', 'Listing uploads is not available to anonymous callers');
  }
}

/** A per-identifier quota would be exceeded (429). */
export class QuotaExceededError extends FragoError {
  constructor(message: string) {
    super('QUOTA_EXCEEDED', message);
  }
}

/** The chunk body arrived slower than `minChunkBodyRate` over a whole `chunkBodyRateWindow`; nothing was stored (408). */
export class BodyTooSlowError extends FragoError {
  constructor(minBytesPerSecond: number, windowMs: number) {
    super('BODY_TOO_SLOW', `The body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs} ms; nothing was stored, send the chunk again`);
  }
}
