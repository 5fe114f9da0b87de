/** What the chunk PUT specs share: the app's chunk limit, digest headers, a streamed PUT and a check of the stored chunks. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { getStatus, type JsonResponse } from '../../helpers/upload-client';
import { request } from './frago-http';

/** The app's maxChunkSize in the chunk PUT specs. */
export const MAX_CHUNK = 64 * 1024;

export function contentDigest(data: Uint8Array, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm === 'sha256' ? 'sha-256' : 'sha-512'}=:${createHash(algorithm).update(data).digest('base64')}:`;
}

export function md5Base64(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

/** PUT a raw body streamed in `parts` (chunked transfer, no Content-Length). */
export async function putStreamed(url: string, id: string, parts: Uint8Array[], range: string): Promise<JsonResponse> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
  return request(`${url}/${id}/`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-range': range },
    body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
}

/** Asserts GET shows exactly these stored chunks. */
export async function assertChunks(uploadUrl: string, id: string, expected: Array<{ start: number; end: number; size: number }>): Promise<void> {
  const status = await getStatus(uploadUrl, id);
  assert.equal(status.status, 200);
  assert.deepEqual(status.body.chunks, expected);
}
