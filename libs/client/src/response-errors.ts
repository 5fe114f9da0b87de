/**
 * Turns what `fetch` gives back (an error answer, or a rejection) into an
 * `UploadError` with the server's message and a retry verdict.
 */
import { TimeoutError } from './abort';
import { ClientErrorCodes, UploadAbortedError, UploadError } from './errors';
import type { ErrorResponse } from './wire';

/** The 409 message a client retries: another finalize of the same upload is running. */
const FINALIZING = /being finalized/i;

/**
 * Server codes worth another attempt although their status is 4xx: a racing
 * finalize or twin chunk (409), and a chunk whose bytes were damaged in transit
 * (400 `DIGEST_MISMATCH`: nothing was stored, sending again fixes it).
 */
const RETRYABLE_CODES = new Set(['FINALIZE_IN_PROGRESS', 'CHUNK_BUSY', 'DIGEST_MISMATCH']);

/** Whether an HTTP error answer is worth retrying: 5xx, 408, 429, 409 "Upload is being finalized" and the codes above. */
export function isRetryableStatus(status: number, message: string, code?: string): boolean {
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  return status >= 500 || status === 408 || status === 429 || (status === 409 && FINALIZING.test(message));
}

/** `Retry-After` in ms (delta-seconds or HTTP date), or undefined. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Reads an error answer (JSON `{status:false, error|message, code}` or anything else) into an `UploadError`. */
export async function errorFromResponse(response: Response, uploadId?: string): Promise<UploadError> {
  const text = await response.text().catch(() => '');
  let body: Partial<ErrorResponse> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') body = parsed;
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status line below.
  }
  // A frago error body (`status: false`) carries the message to show; anything
  // else (a proxy page, a framework 404 for a wrong URL) is described by status and URL.
  const serverMessage = body.error ?? body.message;
  const fromFrago = body.status === false && typeof serverMessage === 'string' && serverMessage !== '';
  const detail = typeof serverMessage === 'string' && serverMessage !== '' ? `: ${serverMessage}` : '';
  const message = fromFrago
    ? serverMessage
    : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${response.url || 'the server'}${detail}`;
  return new UploadError(message, {
    status: response.status,
    code: typeof body.code === 'string' ? body.code : ClientErrorCodes.Http,
    retryable: isRetryableStatus(response.status, message, typeof body.code === 'string' ? body.code : undefined),
    uploadId,
    retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
  });
}

/** Describes a network failure, including the low-level cause Node attaches (e.g. `ECONNREFUSED`). */
function describeNetworkError(error: unknown, url: string): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const detail = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return `Could not reach ${url}: ${detail}`;
}

/**
 * Classifies a `fetch` rejection: the caller's abort is final, a request
 * timeout and any other network failure are retryable.
 */
export function errorFromRejection(error: unknown, url: string, userSignal?: AbortSignal, uploadId?: string): UploadError {
  if (error instanceof UploadError) return error;
  if (userSignal?.aborted) return new UploadAbortedError(uploadId, userSignal.reason);
  const reason = error instanceof TimeoutError ? error : (error as { cause?: unknown } | null)?.cause;
  const message = reason instanceof TimeoutError ? `${reason.message}: ${url}` : describeNetworkError(error, url);
  return new UploadError(message, { status: 0, code: ClientErrorCodes.Network, retryable: true, uploadId, cause: error });
}

/** Parses a successful answer's body (empty → undefined), or fails with a non-retryable `BAD_RESPONSE`. */
export function parseJsonBody(text: string, response: Response, uploadId?: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new UploadError(`Expected JSON from ${response.url || 'server'} (HTTP ${response.status})`, {
      status: response.status,
      code: ClientErrorCodes.BadResponse,
      retryable: false,
      uploadId,
      cause,
    });
  }
}
