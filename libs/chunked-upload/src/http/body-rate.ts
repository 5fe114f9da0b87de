import type { IncomingMessage } from 'node:http';

/** The slowest a chunk body may arrive: at least `minBytesPerSecond`, measured over every `windowMs`. */
export interface BodyRate {
  /** 0 turns the check off. */
  minBytesPerSecond: number;
  windowMs: number;
}

/**
 * Watches the arrival of a request body and calls `onTooSlow` once when a
 * whole window passes with fewer than `minBytesPerSecond × windowMs` bytes
 * from the client: a body trickled byte by byte would otherwise hold its
 * socket and its chunk reservation for as long as the client likes. A window
 * in which the server itself is behind (bytes arrived and wait unread in the
 * request's buffer, e.g. a slow storage) does not count against the client.
 * Stops when the body ends or the connection closes.
 */
export function watchBodyRate(request: IncomingMessage, rate: BodyRate, onTooSlow: () => void): void {
  const socket = request.socket as IncomingMessage['socket'] | null;
  if (rate.minBytesPerSecond === 0 || request.complete || !socket || socket.destroyed) return;
  const needed = (rate.minBytesPerSecond * rate.windowMs) / 1000;
  let mark = socket.bytesRead;
  const stop = (): void => {
    clearInterval(timer);
    request.off('end', stop);
    request.off('close', stop);
  };
  const timer = setInterval(() => {
    const arrived = socket.bytesRead - mark;
    mark = socket.bytesRead;
    if (request.complete) {
      stop();
      return;
    }
    if (request.readableLength > 0) return;
    if (arrived < needed) {
      stop();
      onTooSlow();
    }
  }, rate.windowMs);
  timer.unref();
  request.once('end', stop);
  request.once('close', stop);
}
