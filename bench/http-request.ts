/** One HTTP exchange over a keep-alive agent, with the response body read whole (responses are small). */
import { Agent, request } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { StreamBody } from './multipart-body';

export interface HttpResponse {
  status: number;
  body: string;
}

const MAX_RESPONSE = 1024 * 1024;

export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'fifo', noDelay: true });
}

/** Sends `body` (a buffer, or a streamed body of exactly Content-Length bytes) and resolves with the response. */
export function exchange(agent: Agent, url: URL, method: string, headers: OutgoingHttpHeaders, body: Buffer | StreamBody | null): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      const pieces: Buffer[] = [];
      let length = 0;
      res.on('data', (piece: Buffer) => {
        length += piece.length;
        if (length <= MAX_RESPONSE) pieces.push(piece);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(pieces).toString('utf8') });
      });
    });
    req.on('error', fail);
    if (body === null) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.send(req, (err) => {
        req.destroy(err);
        fail(err);
      });
    }
  });
}

export function jsonRequestBody(value: unknown): { headers: OutgoingHttpHeaders; body: Buffer } {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return { headers: { 'content-type': 'application/json', 'content-length': body.length }, body };
}

/** Parses a JSON response body into a plain object (or throws with the raw text). */
export function parseJsonObject(res: HttpResponse, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    throw new Error(`${what}: HTTP ${res.status}, body is not JSON: ${res.body.slice(0, 300)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${what}: HTTP ${res.status}, body is not a JSON object: ${res.body.slice(0, 300)}`);
  }
  return parsed as Record<string, unknown>;
}
