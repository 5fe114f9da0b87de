import { connect } from 'node:net';

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
  let json: Record<string, unknown> | null = null;
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
