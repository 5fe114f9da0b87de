/**
 * The baseline server's HTTP edge: its error type, JSON answers and small form bodies
 * (JSON, urlencoded or multipart fields).
 */
import Busboy from '@fastify/busboy';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_FORM_BODY = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, value: unknown, closeConnection = false): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads a small form body: JSON, urlencoded or multipart fields. */
export async function readForm(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const fields: Record<string, unknown> = {};
    const bb = new Busboy({ headers: { ...req.headers, 'content-type': req.headers['content-type'] ?? '' }, limits: { fieldSize: MAX_FORM_BODY, files: 0 } });
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    await pipeline(req, bb);
    return fields;
  }
  const pieces: Buffer[] = [];
  let length = 0;
  for await (const piece of req) {
    length += (piece as Buffer).length;
    if (length > MAX_FORM_BODY) throw new HttpError(413, 'Body too large');
    pieces.push(piece as Buffer);
  }
  const text = Buffer.concat(pieces).toString('utf8');
  if (text.length === 0) return {};
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'Invalid JSON body');
  return parsed as Record<string, unknown>;
}
