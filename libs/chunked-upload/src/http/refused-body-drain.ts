import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Bounds of the reading that follows an answer given before the body was read. */
export interface DrainBounds {
  /** Most body bytes read and thrown away after the answer, per connection. */
  maxBytes: number;
  /** Most milliseconds spent reading them. */
  timeoutMs: number;
  /** Most connections draining at once (in this app); past it, a refused body is not read at all. */
  maxSockets: number;
}

const CHECK_EVERY_MS = 100;
const draining = new WeakSet<Socket>();
const undrained = new WeakSet<IncomingMessage>();

/** The answer to `request` closes its connection without reading the rest of the body (a client too slow to wait for). */
export function closeWithoutDraining(request: IncomingMessage): void {
  undrained.add(request);
}

/**
 * The drains of one app: each bounded by {@link DrainBounds.maxBytes} and
 * {@link DrainBounds.timeoutMs}, and at most {@link DrainBounds.maxSockets}
 * at once, so that many connections refused together (an attacker's) cannot
 * make the server read unbounded amounts: past the cap, the connection
 * closes after the answer without reading on (the client may then see a
 * reset instead of the answer).
 */
export class RefusedBodyDrains {
  private active = 0;

  constructor(readonly bounds: DrainBounds) {}

  /** Connections draining right now. */
  get count(): number {
    return this.active;
  }

  /** See {@link drainThenClose}; returns without draining when it may not drain. */
  drainThenClose(request: IncomingMessage): void {
    if (request.complete || request.socket.destroyed || draining.has(request.socket)) return;
    if (undrained.has(request) || this.active >= this.bounds.maxSockets) return;
    this.active++;
    drainThenClose(request, this.bounds, () => this.active--);
  }
}

/**
 * Called when an answer goes out while the request body is still arriving
 * (a 404, 409, 413, … given before the body was read). Closing right after
 * the answer would reset the connection under a client that is still
 * sending, and a reset destroys the answer in the client's receive buffer
 * before it reads it. So the body is read and thrown away first; the
 * connection (marked `Connection: close` by the caller) closes once the body
 * has ended, or as soon as a bound of bytes or time is passed.
 */
function drainThenClose(request: IncomingMessage, bounds: DrainBounds, done: () => void): void {
  const socket = request.socket;
  draining.add(socket);
  const startBytes = socket.bytesRead;
  // Node closes a `Connection: close` socket once the answer is written (destroySoon):
  // hold that until the body has been read, then let it proceed.
  const destroySoon = socket.destroySoon.bind(socket);
  let closeRequested = false;
  socket.destroySoon = () => {
    closeRequested = true;
  };
  const finish = (cutShort: boolean): void => {
    clearInterval(check);
    clearTimeout(deadline);
    request.off('end', onEnd);
    socket.off('close', onClose);
    socket.destroySoon = destroySoon;
    draining.delete(socket);
    done();
    if (cutShort) socket.destroy();
    else if (closeRequested) destroySoon();
  };
  const onEnd = (): void => finish(false);
  const onClose = (): void => finish(false);
  const check = setInterval(() => {
    if (socket.bytesRead - startBytes > bounds.maxBytes) finish(true);
  }, CHECK_EVERY_MS);
  const deadline = setTimeout(() => finish(true), bounds.timeoutMs);
  check.unref();
  deadline.unref();
  request.on('end', onEnd);
  socket.on('close', onClose);
  // Whoever was reading (a parser, a twin waiting its turn) is done: throw the rest away.
  request.unpipe();
  request.resume();
}
