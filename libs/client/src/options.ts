/**
 * What `upload()` accepts and returns, and the one place its defaults are
 * applied and checked.
 */
import type { ChecksumAlgorithm } from './checksum';
import { assertChunkSize } from './chunk-plan';
import type { UploadError } from './errors';
import type { FragoApiOptions } from './frago-api';
import type { ProgressListener } from './progress';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

/** Options of `upload()`. Connection options (`url`, `headers`, `token`, `fetch`, …) come from `FragoApiOptions`. */
export interface UploadOptions extends FragoApiOptions {
  /** Bytes per chunk. @default 8 MiB */
  chunkSize?: number;
  /** Chunks in flight at once. @default 4 */
  parallel?: number;
  /** Whole-file checksum sent on finalize, or false to send none. @default 'md5' */
  checksum?: ChecksumAlgorithm | false;
  /** Send an RFC 9530 `Content-Digest: sha-256=:…:` header with every chunk. @default false */
  chunkDigest?: boolean;
  /** Name sent to the server. @default the File's name, the source's name, or "blob" */
  filename?: string;
  /** Resume this upload: ask the server what it holds and send only the missing ranges. */
  uploadId?: string;
  /** Aborts the upload: in-flight requests are cancelled and `upload()` rejects with `UploadAbortedError`. */
  signal?: AbortSignal;
  /** On abort, also `DELETE` the upload on the server (best effort). @default false */
  deleteOnCancel?: boolean;
  /** Retries per request after the first attempt. @default 5 */
  retries?: number;
  /** Backoff bounds in ms. @default { baseMs: 250, maxMs: 5000 } */
  retryDelay?: { baseMs?: number; maxMs?: number };
  /** Receives progress snapshots (after each chunk event and phase change). */
  onProgress?: ProgressListener;
  /** Called with the upload id as soon as it is known (started or resumed), e.g. to store it for a later resume. */
  onStart?: (uploadId: string) => void;
  /** Called before each retry with the error that caused it. */
  onRetry?: (error: UploadError, attempt: number, delayMs: number) => void;
}

/** What a successful `upload()` resolves to: the server confirmed the upload (201 on finalize). */
export interface UploadResult {
  /** The server's id for the upload. */
  uploadId: string;
  /** Name sent to the server. */
  filename: string;
  /** Size in bytes. */
  size: number;
  /** Hex whole-file checksum the server confirmed, or null when none was sent. */
  checksum: string | null;
  /** Algorithm of `checksum`, or null. */
  algorithm: ChecksumAlgorithm | null;
  /** The server's finalize message, e.g. "Upload completed for big.bin". */
  message: string;
  /** True when an existing upload was resumed. */
  resumed: boolean;
  /** Bytes the server already held when this run began. */
  resumedBytes: number;
  /** Bytes sent by this run. */
  sentBytes: number;
  /** Chunks sent by this run. */
  chunksSent: number;
  /** Requests retried by this run. */
  retries: number;
  /** Wall-clock duration of this run, in ms. */
  durationMs: number;
}

/** `UploadOptions` with every default applied. */
export interface ResolvedUploadOptions extends UploadOptions {
  chunkSize: number;
  parallel: number;
  checksum: ChecksumAlgorithm | false;
  chunkDigest: boolean;
  deleteOnCancel: boolean;
  retryPolicy: RetryPolicy;
}

/** Default chunk size: 8 MiB. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/** Default number of chunks in flight. */
export const DEFAULT_PARALLEL = 4;

/** Applies defaults and checks values, throwing a `RangeError`/`TypeError` that names the option. */
export function resolveUploadOptions(options: UploadOptions): ResolvedUploadOptions {
  if (typeof options.url !== 'string' || options.url === '') throw new TypeError('url is required (the API base, e.g. http://127.0.0.1:3000/api)');
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  assertChunkSize(chunkSize);
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) throw new RangeError(`parallel must be an integer ≥ 1, got ${parallel}`);
  // Checked at run time too: JavaScript callers pass anything.
  const checksum: unknown = options.checksum ?? 'md5';
  if (checksum !== false && checksum !== 'md5' && checksum !== 'sha256') {
    throw new RangeError(`checksum must be 'md5', 'sha256' or false, got ${String(checksum)}`);
  }
  const retries = options.retries ?? DEFAULT_RETRY_POLICY.retries;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer ≥ 0, got ${retries}`);
  const retryPolicy: RetryPolicy = {
    retries,
    baseDelayMs: options.retryDelay?.baseMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
    maxDelayMs: options.retryDelay?.maxMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
  };
  return {
    ...options,
    chunkSize,
    parallel,
    checksum,
    chunkDigest: options.chunkDigest ?? false,
    deleteOnCancel: options.deleteOnCancel ?? false,
    retryPolicy,
  };
}
