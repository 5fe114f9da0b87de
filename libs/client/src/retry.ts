/**
 * Exponential backoff with jitter, abortable. The policy of what is worth
 * retrying lives with the error (`UploadError.retryable`); this file only
 * decides when to try again and gives up after `retries` extra attempts.
 */
import { UploadAbortedError, UploadError } from './errors';

/** How retries are spaced. */
export interface RetryPolicy {
  /** Extra attempts after the first one. @default 5 */
  retries: number;
  /** Delay before the first retry, in ms; doubles each time. @default 250 */
  baseDelayMs: number;
  /** Upper bound of one delay, in ms. @default 5000 */
  maxDelayMs: number;
}

/** The defaults used by `upload()`. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 5,
  baseDelayMs: 250,
  maxDelayMs: 5000,
});

/** Delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" in [d/2, d]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects with `UploadAbortedError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new UploadAbortedError(undefined, signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new UploadAbortedError(undefined, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Called before each retry, e.g. to count retries or log them. */
export type RetryListener = (error: UploadError, attempt: number, delayMs: number) => void;

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the
 * retries are used up. A server's `Retry-After` (carried as
 * `retryAfterMs`) replaces the computed delay when it is longer, up to `maxDelayMs * 4`.
 */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal, onRetry?: RetryListener): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof UploadError) || !error.retryable || n >= policy.retries || signal?.aborted) throw error;
      const hinted = error.retryAfterMs ?? 0;
      const delay = Math.max(backoffDelay(n, policy), Math.min(hinted, policy.maxDelayMs * 4));
      onRetry?.(error, n + 1, delay);
      await sleep(delay, signal);
    }
  }
}
