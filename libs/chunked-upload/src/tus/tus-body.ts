import type { FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import type { TusBody } from './tus.service';

const HOLD_BYTES = 1024 * 1024;

/**
 * The body of a PATCH (or creation-with-upload), read from the socket at
 * once into a small bounded buffer (backpressure pauses the socket beyond
 * it), so that bytes which arrived before a cut are still there to be stored
 * (tus: "The Server SHOULD always attempt to store as much of the received
 * data as possible"). A cut aborts `signal` and ends the stream early.
 */
export function tusBodyFromRequest(request: FastifyRequest): TusBody {
  const raw = request.raw;
  const controller = new AbortController();
  const held = new PassThrough({ highWaterMark: HOLD_BYTES });
  const cut = (): void => {
    if (raw.complete || controller.signal.aborted) return;
    const reason = new Error('client disconnected');
    reason.name = 'AbortError'; // the filter treats it as the client's doing, not a server fault
    controller.abort(reason);
    raw.unpipe(held);
    held.end();
  };
  raw.once('error', cut);
  raw.once('aborted', cut);
  raw.once('close', cut);
  raw.pipe(held);
  return {
    stream: held,
    signal: controller.signal,
    discard: () => {
      held.resume();
      if (!raw.complete && !raw.destroyed) raw.resume();
    },
  };
}
