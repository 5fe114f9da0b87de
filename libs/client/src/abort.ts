/**
 * AbortSignal plumbing that works in every browser and Node ≥ 18 (no
 * reliance on `AbortSignal.any`, which older browsers lack).
 */

/** A signal that aborts when any input aborts, plus `dispose()` to detach its listeners. */
export interface LinkedSignal {
  /** The combined signal. */
  readonly signal: AbortSignal;
  /** Detaches from the inputs; call when the operation is over. */
  dispose(): void;
}

/** Combines signals: the result aborts with the reason of the first input that aborts. */
export function linkSignals(...inputs: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const input of inputs) {
    if (input === undefined) continue;
    if (input.aborted) {
      controller.abort(input.reason);
      break;
    }
    const onAbort = (): void => controller.abort(input.reason);
    input.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => input.removeEventListener('abort', onAbort));
  }
  return { signal: controller.signal, dispose: () => cleanups.forEach((cleanup) => cleanup()) };
}

/** A signal that aborts after `ms` (never when `ms` is 0), plus `dispose()` to clear the timer. */
export function timeoutSignal(ms: number): LinkedSignal {
  const controller = new AbortController();
  const timer = ms > 0 ? setTimeout(() => controller.abort(new TimeoutError(ms)), ms) : undefined;
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

/** The abort reason used when a single request runs longer than its timeout. */
export class TimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Request timed out after ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'TimeoutError';
  }
}
