import assert from 'node:assert/strict';
import { assertNoLeak } from '../../e2e/support/frago-http';
import { request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';

/** The headers every tus request carries. */
export const TUS = { 'tus-resumable': '1.0.0' } as const;

/** Base64 of each `key value` pair, as `Upload-Metadata` wants. */
export function metadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

/** `Upload-Checksum` of `data` with `algorithm`. */
export function uploadChecksum(data: Uint8Array, algorithm = 'sha1'): string {
  return `${algorithm} ${createHash(algorithm).update(data).digest('base64')}`;
}

/** POST a creation request; returns the response and the upload URL (absolute). */
export async function createTus(
  filesUrl: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<{ response: Response; url: string; id: string }> {
  const response = await fetch(filesUrl, { method: 'POST', headers: { ...TUS, ...headers }, body: body as unknown as BodyInit | undefined });
  const location = response.headers.get('location') ?? '';
  const url = new URL(location, filesUrl).toString();
  return { response, url, id: location.split('/').pop() ?? '' };
}

/** PATCH `bytes` at `offset`. */
export function patchTus(url: string, offset: number, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'PATCH',
    headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...headers },
    body: bytes as unknown as BodyInit,
  });
}

export function headTus(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: { ...TUS, ...headers } });
}

/**
 * Starts a PATCH announcing `total` bytes, sends `first` of them and hands
 * back functions to send the rest or to half-close the connection (the body
 * is then cut: what was sent arrives, nothing more).
 */
export function openPatch(
  url: string,
  offset: number,
  total: number,
  first: Uint8Array,
  headers: Record<string, string> = {},
): {
  finish(rest: Uint8Array): Promise<number>;
  cut(): void;
  status: Promise<number>;
} {
  const target = new URL(url);
  let resolveStatus: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => {
    resolveStatus = resolve;
  });
  const req = httpRequest({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'PATCH',
    headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'content-length': String(total), ...headers },
  });
  req.on('response', (response) => {
    response.resume();
    resolveStatus(response.statusCode ?? 0);
  });
  req.on('error', () => resolveStatus(0));
  const flushed = new Promise<void>((resolve) => req.write(first, () => resolve()));
  return {
    finish: (rest) => {
      req.end(rest);
      return status;
    },
    cut: () => {
      const end = (socket: import('node:net').Socket): void => {
        socket.once('close', () => resolveStatus(0));
        socket.end();
      };
      void flushed.then(() => end(req.socket as import('node:net').Socket));
    },
    status,
  };
}

/** Status, `Tus-Resumable: 1.0.0`, and (with a body) frago's error shape with no leak. */
export async function assertTusError(response: Response, status: number, code?: string): Promise<void> {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}`);
  assert.equal(response.headers.get('tus-resumable'), '1.0.0', 'Tus-Resumable on every response');
  const text = await response.text();
  if (text === '') return; // HEAD answers carry no body
  const body = JSON.parse(text) as { status: boolean; code: string; message: string };
  assert.equal(body.status, false);
  assert.equal(typeof body.message, 'string');
  if (code) assert.equal(body.code, code, text);
  assertNoLeak(text);
}
