import assert from 'node:assert/strict';
import { json, type JsonResponse } from '../../helpers/upload-client';

/** The key frago uses for an error's text: `error` on the chunk PUT, `message` elsewhere. */
export type ErrorKey = 'error' | 'message';

/**
 * Asserts a frago error answer: the status, `{status: false, <key>: text, code}`,
 * no text under the other key, and nothing that leaks the server (stack
 * frames, temp paths, module paths).
 */
export function assertFragoError(response: JsonResponse<unknown>, status: number, key: ErrorKey, code?: string): string {
  const body = response.body as Record<string, unknown> | null;
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${JSON.stringify(body)}`);
  assert.ok(body !== null && typeof body === 'object', `error body is JSON: ${JSON.stringify(body)}`);
  assert.equal(body.status, false, JSON.stringify(body));
  assert.equal(typeof body[key], 'string', `"${key}" holds the text: ${JSON.stringify(body)}`);
  assert.ok((body[key] as string).length > 0);
  assert.equal(body[key === 'error' ? 'message' : 'error'], undefined, `only "${key}" is used: ${JSON.stringify(body)}`);
  assert.equal(typeof body.code, 'string', `a stable code is given: ${JSON.stringify(body)}`);
  if (code !== undefined) assert.equal(body.code, code, JSON.stringify(body));
  assertNoLeak(JSON.stringify(body));
  return body[key] as string;
}

/** Fails when `text` shows a stack frame or a server path. */
export function assertNoLeak(text: string): void {
  assert.doesNotMatch(text, /\/tmp|\/work\/|node_modules|\bat [\w.<>]+ \(|\bat \//, `leaks server details: ${text}`);
  assert.doesNotMatch(text, /\bstack\b/i, `leaks a stack: ${text}`);
}

/** Any request, answered as {@link JsonResponse}. */
export async function request(url: string, init: RequestInit = {}): Promise<JsonResponse> {
  return json(await fetch(url, init));
}

/** POST `fields` as `application/x-www-form-urlencoded`. */
export function postUrlencoded(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** POST `fields` as `multipart/form-data` (what frago's JavaScript client sends). */
export function postMultipart(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return request(url, { method: 'POST', headers, body: form });
}
