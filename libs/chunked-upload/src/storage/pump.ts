import { finished, type Readable, type Writable } from 'node:stream';

/**
 * Pipes `source` into `sink` and resolves once the sink has finished; the
 * first failure of either, or an abort of `signal`, destroys both and
 * rejects (an abort with an `AbortError` whose cause is the signal's reason).
 * What `pipeline()` does for two streams, without the AbortController that
 * Node's pipeline() creates and aborts at the end of every run, success
 * included: the abort's DOMException captures a stack trace that keeps the
 * frames' streams and closures reachable until a full collection, so every
 * chunk's stream graph was promoted to V8's old space as garbage (about 5 MB
 * per young-generation collection in a 64 KiB chunk run).
 */
export function pump(source: Readable, sink: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const cleanups: (() => void)[] = [];
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      if (error === undefined) {
        resolve();
        return;
      }
      // Late errors of the streams being torn down have nobody left to hear them.
      source.on('error', ignore);
      sink.on('error', ignore);
      source.unpipe(sink);
      source.destroy();
      sink.destroy();
      reject(error);
    };
    cleanups.push(finished(source, { writable: false }, (error) => error && settle(error)));
    cleanups.push(finished(sink, (error) => settle(error ?? undefined)));
    if (signal) {
      const onAbort = (): void => settle(abortError(signal.reason));
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    source.pipe(sink);
  });
}

function ignore(): void {}

/** The error `pipeline()` rejects with when its signal aborts. */
function abortError(reason: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause: reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}
