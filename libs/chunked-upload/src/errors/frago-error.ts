/**
 * The base of every domain error the module raises, and the codes it can carry.
 */

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
