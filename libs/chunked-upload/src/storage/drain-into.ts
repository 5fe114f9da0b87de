import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { PositionalWriter } from './positional-writer';

/**
 * Pipes `source` into `sink` and resolves once the sink has written all it
 * received, with the source's failure (cut, abort) or undefined; rejects
 * when the sink fails. Not pipeline(): it would destroy the sink and drop
 * the bytes it still buffers; a source that fails ends the sink instead,
 * which writes out what arrived.
 */
export async function drainInto(source: Readable, sink: PositionalWriter, signal?: AbortSignal): Promise<unknown> {
  let failure: unknown;
  const stop = (error: unknown): void => {
    failure ??= error;
    source.unpipe(sink);
    sink.end();
  };
  const onAbort = (): void => {
    stop(signal?.reason ?? new Error('aborted'));
    source.destroy();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  finished(source).catch(stop);
  source.pipe(sink);
  try {
    await finished(sink);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return failure;
}
