import { setTimeout as sleep } from 'node:timers/promises';
import { StorageUnavailableError } from '../errors/frago.errors';
import { statusOf } from './s3-client';

const ATTEMPTS = 3;
const BACKOFF_MS = [100, 400];

/**
 * True for failures worth another try: the server's 5xx (not 501), throttling,
 * and transport errors (connection refused or reset, timeouts), which have no
 * HTTP status at all.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return false;
  const status = statusOf(error);
  if (status === undefined) return !isAbort(error);
  return (status >= 500 && status !== 501) || status === 429;
}

function isAbort(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === 'AbortError' || (error as NodeJS.ErrnoException | undefined)?.code === 'ABORT_ERR';
}

/** A retryable failure becomes the domain's 503 (Retry-After); anything else is returned as is. */
export function unavailable(error: unknown): unknown {
  if (!isRetryable(error)) return error;
  const wrapped = new StorageUnavailableError();
  (wrapped as Error & { cause?: unknown }).cause = error;
  return wrapped;
}

/**
 * Runs `request` up to 3 times while it fails retryably. The SDK does not
 * retry requests with a stream body, so frago retries them itself with a
 * fresh stream (the caller's `request` makes one per call).
 */
export async function retrying<T>(request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryable(error) || signal?.aborted) throw unavailable(error);
      await sleep(BACKOFF_MS[attempt - 1] ?? 400);
    }
  }
}
