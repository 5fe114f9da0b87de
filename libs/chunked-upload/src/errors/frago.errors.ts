import type { ByteRange } from '../protocol/wire.types';

/**
 * Base class of every domain error the module raises. Carries a stable
 * machine-readable `code`; the HTTP status lives in one table in the
 * exception filter, never here, so services stay free of HTTP.
 * @publicApi
 */
export class FragoError extends Error {
  constructor(
    /** Stable code, e.g. `CHUNK_OVERLAP`; also sent to clients as `code`. */
    public readonly code: FragoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The `code` sent to clients: {@link code}, or the code of the Fastify error this one reshapes (e.g. `FST_PARTS_LIMIT`). */
  get wireCode(): string {
    return this.code;
  }
}

/** Every code a {@link FragoError} can carry. */
export type FragoErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_CONTENT_RANGE'
  | 'CHUNK_SIZE_MISMATCH'
  | 'NO_CHUNK'
  | 'MALFORMED_MULTIPART'
  | 'MULTIPART_LIMIT'
  | 'DIGEST_MISMATCH'
  | 'UPLOAD_NOT_FOUND'
  | 'UPLOAD_EXPIRED'
  | 'UPLOAD_COMPLETE'
  | 'CHUNK_OVERLAP'
  | 'CHUNK_BUSY'
  | 'UPLOAD_TOO_LARGE'
  | 'CHUNK_TOO_LARGE'
  | 'INCOMPLETE_UPLOAD'
  | 'CHECKSUM_REQUIRED'
  | 'UNSUPPORTED_ALGORITHM'
  | 'CHECKSUM_MISMATCH'
  | 'FINALIZE_IN_PROGRESS'
  | 'LIST_FORBIDDEN'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE_FULL'
  | 'STORAGE_UNAVAILABLE'
  | 'TUS_VERSION_UNSUPPORTED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'OFFSET_MISMATCH'
  | 'UPLOAD_LENGTH_EXCEEDED'
  | 'CHUNK_CHECKSUM_MISMATCH'
  | 'FINAL_UPLOAD_IMMUTABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'TWIN_WAIT_LIMIT'
  | 'TWIN_WAIT_TIMEOUT'
  | 'BODY_TOO_SLOW';

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

/** The storage has no space left (507); the chunk was not stored, retry later. */
export class StorageFullError extends FragoError {
  constructor() {
    super('STORAGE_FULL', 'Insufficient storage: the chunk was not stored; retry later');
  }
}

/** The storage failed; the chunk was not stored, retry (503). */
export class StorageUnavailableError extends FragoError {
  constructor() {
    super('STORAGE_UNAVAILABLE', 'Storage failed: the chunk was not stored; retry');
  }
}

/** tus: the request's `Tus-Resumable` names a version this server does not speak (412). */
export class TusVersionError extends FragoError {
  constructor(received: string | undefined) {
    super('TUS_VERSION_UNSUPPORTED', received ? `Tus-Resumable ${received.slice(0, 20)} is not supported; use 1.0.0` : 'Tus-Resumable: 1.0.0 header required');
  }
}

/** tus: a PATCH body of another content type than `application/offset+octet-stream` (415). */
export class UnsupportedMediaTypeError extends FragoError {
  constructor(expected: string) {
    super('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${expected}`);
  }
}

/** tus: `Upload-Offset` differs from the upload's offset, or another PATCH is writing there (409). */
export class OffsetMismatchError extends FragoError {
  constructor(public readonly offset: number | null) {
    super(
      'OFFSET_MISMATCH',
      offset === null
        ? 'Another request is writing at this offset; ask HEAD for the offset and resume'
        : `Upload-Offset must be ${offset}; ask HEAD for the offset and resume`,
    );
  }
}

/** tus: the body would go past `Upload-Length` (413). */
export class UploadLengthExceededError extends FragoError {
  constructor(length: number) {
    super('UPLOAD_LENGTH_EXCEEDED', `The body goes past the upload's length of ${length} bytes`);
  }
}

/** tus checksum extension: the PATCH body does not match `Upload-Checksum`; nothing was stored (460). */
export class ChunkChecksumMismatchError extends FragoError {
  constructor() {
    super('CHUNK_CHECKSUM_MISMATCH', 'Upload-Checksum does not match the body; nothing was stored, send it again');
  }
}

/** tus concatenation: a final upload takes no PATCH (403). */
export class FinalUploadImmutableError extends FragoError {
  constructor() {
    super('FINAL_UPLOAD_IMMUTABLE', 'A final (concatenated) upload cannot be patched');
  }
}

/** The database cannot be reached or is overloaded right now; retry (503). */
export class DatabaseUnavailableError extends FragoError {
  constructor() {
    super('DATABASE_UNAVAILABLE', 'The database is unavailable right now; retry');
  }
}

/** Too many identical chunk requests already wait in this process for the one writing their range (`maxWaitingTwins`); retry (503). */
export class TwinWaitLimitError extends FragoError {
  constructor() {
    super('TWIN_WAIT_LIMIT', 'Too many identical requests for this chunk are waiting; retry');
  }
}

/** An identical chunk request waited `twinWaitTimeout` for the one writing its range; retry (503). */
export class TwinWaitTimeoutError extends FragoError {
  constructor() {
    super('TWIN_WAIT_TIMEOUT', 'The same chunk is still being uploaded by another request; retry');
  }
}

/** The chunk body arrived slower than `minChunkBodyRate` over a whole `chunkBodyRateWindow`; nothing was stored (408). */
export class BodyTooSlowError extends FragoError {
  constructor(minBytesPerSecond: number, windowMs: number) {
    super('BODY_TOO_SLOW', `The body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs} ms; nothing was stored, send the chunk again`);
  }
}
