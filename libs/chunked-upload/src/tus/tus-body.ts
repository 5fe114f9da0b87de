import type { FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { BodyTooSlowError } from '../errors/frago.errors';
import { watchBodyRate, type BodyRate } from '../http/body-rate';
import { closeWithoutDraining } from '../http/refused-body-drain';
import type { TusBody } from './tus.service';

const HOLD_BYTES = 1024 * 1024;

/** A PATCH body slower than the minimum rate: what arrived is kept (tus), the connection closes after the 408. */
export class TusBodyTooSlowError extends BodyTooSlowError {
  constructor(minBytesPerSecond: number, windowMs: number) {
    super(minBytesPerSecond, windowMs);
    this.message = `The body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs} ms; the bytes that arrived are stored (HEAD gives the offset), send the rest`;
  }
}

/**
 * The body of a PATCH (or creation-with-upload), read from the socket at
 * once into a small bounded buffer (backpressure pauses the socket beyond
 * it), so that bytes which arrived before a cut are still there to be stored
 * (tus: "The Server SHOULD always attempt to store as much of the received
 * data as possible"). A cut aborts `signal` and ends the stream early.
 *
 * A body that arrives slower than `rate` (as frago chunk bodies, see
 * `watchBodyRate`) is cut the same way, so what arrived is stored and
 * counted, and the request then fails with 408 `BODY_TOO_SLOW`; its
 * connection closes after the answer without reading on.
 */
export function tusBodyFromRequest(request: FastifyRequest, rate: BodyRate): TusBody {
  const raw = request.raw;
  const controller = new AbortController();
  const held = new PassThrough({ highWaterMark: HOLD_BYTES });
  const stop = (reason: Error): void => {
    if (raw.complete || controller.signal.aborted) return;
    controller.abort(reason);
    raw.unpipe(held);
    held.end();
  };
  const cut = (): void => {
    const reason = new Error('client disconnected');
    reason.name = 'AbortError'; // the filter treats it as the client's doing, not a server fault
    stop(reason);
  };
  raw.once('error', cut);
  raw.once('aborted', cut);
  raw.once('close', cut);
  raw.pipe(held);
  watchBodyRate(raw, rate, () => {
    closeWithoutDraining(raw);
    stop(new TusBodyTooSlowError(rate.minBytesPerSecond, rate.windowMs));
    raw.pause();
  });
  return {
    stream: held,
    signal: controller.signal,
    discard: () => {
      held.resume();
      if (!raw.complete && !raw.destroyed && !controller.signal.aborted) raw.resume();
    },
  };
}
