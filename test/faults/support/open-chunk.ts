/**
 * A chunk PUT whose body the test sends piece by piece over its own
 * connection, so it can stop half-way, trickle, or cut the socket.
 */
import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';

/** The server's answer, or the reason there was none. */
export type OpenChunkOutcome = { status: number; body: Record<string, unknown> } | { error: string };

/** A chunk request in progress. */
export interface OpenChunk {
  /** Sends the next `count` body bytes (the multipart preamble goes with the first ones). */
  send(count: number): Promise<void>;
  /** Sends everything not yet sent and ends the request. */
  finish(): Promise<void>;
  /** Destroys the socket (a client that vanished). */
  cut(): void;
  /** Bytes of the chunk sent so far. */
  sent(): number;
  /** Settles when the server answers or the connection dies; never rejects. */
  outcome: Promise<OpenChunkOutcome>;
}

/** Starts `PUT {uploadUrl}/{id}/` for `bytes` at `start` and sends the headers only. */
export function openChunk(uploadUrl: string, id: string, bytes: Buffer, start: number, total: number, options: { multipart?: boolean } = {}): OpenChunk {
  const boundary = `----frago${randomBytes(8).toString('hex')}`;
  const head = options.multipart
    ? Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    : Buffer.alloc(0);
  const tail = options.multipart ? Buffer.from(`\r\n--${boundary}--\r\n`) : Buffer.alloc(0);
  const url = new URL(`${uploadUrl}/${id}/`);
  const req: ClientRequest = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'PUT',
    agent: false,
    headers: {
      'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`,
      'content-type': options.multipart ? `multipart/form-data; boundary=${boundary}` : 'application/octet-stream',
      'content-length': String(head.length + bytes.length + tail.length),
    },
  });
  const outcome = new Promise<OpenChunkOutcome>((resolve) => {
    req.once('response', (response) => {
      const pieces: Buffer[] = [];
      response.on('data', (piece: Buffer) => pieces.push(piece));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body: parse(Buffer.concat(pieces).toString('utf8')) }));
      response.once('error', (error) => resolve({ error: error.message }));
    });
    req.once('error', (error) => resolve({ error: error.message }));
    req.once('close', () => resolve({ error: 'closed without an answer' }));
  });
  req.flushHeaders();
  let offset = 0;
  const write = (data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (req.destroyed || data.length === 0) {
        resolve();
        return;
      }
      req.write(data, () => resolve());
    });
  return {
    async send(count) {
      const first = offset === 0 ? head : Buffer.alloc(0);
      const piece = bytes.subarray(offset, Math.min(bytes.length, offset + count));
      offset += piece.length;
      await write(Buffer.concat([first, piece]));
    },
    async finish() {
      const first = offset === 0 ? head : Buffer.alloc(0);
      const rest = bytes.subarray(offset);
      offset = bytes.length;
      await write(Buffer.concat([first, rest, tail]));
      if (!req.destroyed) req.end();
    },
    cut() {
      req.destroy();
    },
    sent: () => offset,
    outcome,
  };
}

function parse(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text };
  }
}
