/**
 * HTTP/1.1 requests as exact bytes over `node:net` sockets, for tests that
 * send what no HTTP client would: bodies that disagree with their headers,
 * broken framing, a connection cut after a given byte.
 */
import { connect } from 'node:net';

const PIECES_ANSWER_TIMEOUT_MS = 20_000;

/** What came back on a raw connection: a parsed HTTP answer, or nothing before the connection closed. */
export type RawAnswer =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string; json: Record<string, unknown> | null }
  | { kind: 'closed'; error: string | null };

/** The head of a request with exact headers (`Connection: close` unless given). */
export function rawHead(method: string, url: string, headers: Record<string, string | number>): Buffer {
  const target = new URL(url);
  const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  const all: Record<string, string | number> = { connection: 'close', ...headers };
  for (const [name, value] of Object.entries(all)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A multipart form as exact bytes, with its boundary. */
export function multipartBytes(boundary: string, parts: Array<{ name: string; filename?: string; data: Buffer | string }>, closing = true): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename !== undefined ? '\r\nContent-Type: application/octet-stream' : '';
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`, 'latin1'));
    pieces.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data));
    pieces.push(Buffer.from('\r\n'));
  }
  if (closing) pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** Parses one HTTP/1.1 answer from the bytes a server sent. */
export function parseAnswer(bytes: Buffer): RawAnswer | null {
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine, ...headerLines] = text.slice(0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return null;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : null;
  const rawBody = bytes.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  if (length !== null && rawBody.length < length) return null;
  const body = (length === null ? rawBody : rawBody.subarray(0, length)).toString('utf8');
  let json: Record<string, unknown> | null;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { kind: 'answer', status, headers, body, json };
}

/**
 * Sends `bytes` on a fresh connection and returns the answer. With
 * `halfClose`, the client ends its side after the bytes (a body cut short of
 * its Content-Length); otherwise it waits for the server.
 */
export function sendRaw(baseUrl: string, bytes: Buffer, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  const { port, hostname } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect({ port: Number(port), host: hostname });
    const received: Buffer[] = [];
    let error: string | null = null;
    const timer = setTimeout(() => socket.destroy(new Error('no answer in time')), options.timeoutMs ?? 30_000);
    socket.on('data', (data) => received.push(data));
    socket.on('error', (cause) => {
      error = (cause as NodeJS.ErrnoException).code ?? cause.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(received)) ?? { kind: 'closed', error });
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.halfClose) socket.end();
    });
  });
}

/** A request as exact pieces, for {@link sendRequest}. */
export interface RawRequest {
  /** Request line target, sent as is (e.g. `/api/upload/%zz/`). */
  path: string;
  method: string;
  /** Header lines in order, sent as is (names may repeat). `Host` and `Connection: close` are added. */
  headers: Array<[string, string]>;
  /** Body pieces, written one after the other with a turn of the event loop between them. */
  body: Buffer[];
  /**
   * Destroy the socket once this many body bytes are written (a client that
   * vanished mid-body). @default undefined (send everything)
   */
  cutAfter?: number;
  /**
   * After the body, half-close the connection (FIN) instead of waiting with
   * it open: for bodies shorter than their Content-Length. @default false
   */
  endAfterBody?: boolean;
}

/** What happened: an answer, or none (with why) and whether every byte was written. */
export interface RawOutcome {
  answer: Extract<RawAnswer, { kind: 'answer' }> | null;
  /** Every body byte was written and the request was not cut. */
  fullySent: boolean;
  /** Socket error or close reason when there was no answer. */
  error?: string;
}

/** Serialises the head of a {@link RawRequest}. */
export function requestHead(port: number, request: RawRequest): Buffer {
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * Sends `request` to 127.0.0.1:`port` piece by piece (optionally cutting the
 * connection after a byte count) and resolves with what came back, or why
 * nothing did; never rejects. An answer the server sent before it reset the
 * connection still counts.
 */
export function sendRequest(port: number, request: RawRequest): Promise<RawOutcome> {
  return new Promise<RawOutcome>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let fullySent = false;
    let settled = false;
    let socketError: string | undefined;
    const finish = (reason?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseAnswer(Buffer.concat(received));
      const answer = parsed?.kind === 'answer' ? parsed : null;
      resolve({ answer, fullySent, error: answer ? undefined : (socketError ?? reason) });
    };
    const timer = setTimeout(() => finish(`no answer within ${PIECES_ANSWER_TIMEOUT_MS} ms`), PIECES_ANSWER_TIMEOUT_MS);
    socket.on('data', (data: Buffer) => {
      received.push(data);
      // A whole answer with a length: done (the server closes a `Connection: close` request anyway).
      const parsed = parseAnswer(Buffer.concat(received));
      if (parsed?.kind === 'answer' && parsed.headers['content-length'] !== undefined) finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError ??= error.code ?? error.message;
    });
    socket.on('close', () => finish('closed without an answer'));
    socket.once('connect', () => {
      void (async () => {
        const write = (bytes: Buffer): Promise<boolean> =>
          new Promise((done) => {
            if (socket.destroyed || !socket.writable) {
              done(false);
              return;
            }
            socket.write(bytes, (error) => done(!error));
          });
        if (!(await write(requestHead(port, request)))) return;
        let written = 0;
        for (const piece of request.body) {
          let bytes = piece;
          if (request.cutAfter !== undefined && written + bytes.length >= request.cutAfter) {
            bytes = bytes.subarray(0, request.cutAfter - written);
            if (bytes.length > 0 && !(await write(bytes))) return;
            // Let the bytes leave before the connection vanishes.
            await new Promise((done) => setTimeout(done, 5));
            socket.destroy();
            return;
          }
          if (bytes.length > 0 && !(await write(bytes))) return;
          written += bytes.length;
          await new Promise((done) => setImmediate(done));
        }
        if (request.cutAfter !== undefined) {
          socket.destroy();
          return;
        }
        fullySent = true;
        if (request.endAfterBody) socket.end();
      })();
    });
  });
}

/** How a {@link pacedBody} sends: `lead` bytes at once, then `step` bytes every `everyMs` until `upTo` are sent. */
export interface BodyPace {
  lead: number;
  step: number;
  everyMs: number;
  upTo: number;
}

/**
 * Writes `head` and then `body` at `pace` on a raw socket to `url`'s port,
 * until the body is sent up to `pace.upTo` or the server answers and closes.
 * Resolves with the answer and how many body bytes were written; never rejects.
 */
export function pacedBody(url: string, head: string, body: Buffer, pace: BodyPace): Promise<{ answer: RawAnswer | null; sent: number }> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    const received: Buffer[] = [];
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ answer: parseAnswer(Buffer.concat(received)), sent });
    });
    socket.on('connect', () => {
      socket.write(head);
      socket.write(body.subarray(0, pace.lead));
      sent = pace.lead;
      drip = setInterval(() => {
        if (sent >= pace.upTo || socket.destroyed) {
          clearInterval(drip);
          return;
        }
        const piece = body.subarray(sent, Math.min(sent + pace.step, pace.upTo));
        socket.write(piece);
        sent += piece.length;
      }, pace.everyMs);
    });
  });
}
