/**
 * Typed errors raised by the client. Every failure of `upload()` is an
 * `UploadError` (or a subclass), so callers can branch on `code`, `status`
 * and `retryable` instead of parsing messages.
 */

/** Stable codes the client itself assigns; server codes pass through unchanged. */
export const ClientErrorCodes = {
  /** The request never got an HTTP answer (DNS, refused, reset, timeout). */
  Network: 'NETWORK_ERROR',
  /** The caller aborted through its `AbortSignal`. */
  Aborted: 'ABORTED',
  /** The server answered with a body the client could not understand. */
  BadResponse: 'BAD_RESPONSE',
  /** The server refused the whole-file checksum at finalize. */
  ChecksumMismatch: 'CHECKSUM_MISMATCH',
  /** The upload being resumed does not match the local file. */
  ResumeMismatch: 'RESUME_MISMATCH',
  /** The file source returned fewer or more bytes than asked for. */
  ReadError: 'READ_ERROR',
  /** An HTTP error whose body carried no code. */
  Http: 'HTTP_ERROR',
} as const;

/** Details attached to an `UploadError`. */
export interface UploadErrorInit {
  /** HTTP status of the answer, or 0 when there was none. */
  status: number;
  /** Stable machine-readable code (the server's `code`, or one of `ClientErrorCodes`). */
  code: string;
  /** Whether sending the same request again may succeed. */
  retryable: boolean;
  /** The upload concerned, when one had been started (use it to resume). */
  uploadId?: string;
  /** The underlying error, for network failures. */
  cause?: unknown;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
}

/** Any failure of an upload: an HTTP error answer, a network error, an abort or a local problem. */
export class UploadError extends Error {
  /** HTTP status of the answer, or 0 when there was none. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  /** The upload concerned, when known; pass it as `uploadId` to resume. */
  uploadId?: string;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number;

  constructor(message: string, init: UploadErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'UploadError';
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    this.uploadId = init.uploadId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The server rejected the whole-file checksum: the bytes it holds differ from the local file. */
export class ChecksumMismatchError extends UploadError {
  constructor(message: string, uploadId?: string) {
    super(message, { status: 400, code: ClientErrorCodes.ChecksumMismatch, retryable: false, uploadId });
    this.name = 'ChecksumMismatchError';
  }
}

/** The caller aborted the upload through its `AbortSignal`. */
export class UploadAbortedError extends UploadError {
  constructor(uploadId?: string, cause?: unknown) {
    super('Upload aborted', { status: 0, code: ClientErrorCodes.Aborted, retryable: false, uploadId, cause });
    this.name = 'UploadAbortedError';
  }
}

/** True when `error` is an `UploadError` that is worth retrying. */
export function isRetryable(error: unknown): boolean {
  return error instanceof UploadError && error.retryable;
}
