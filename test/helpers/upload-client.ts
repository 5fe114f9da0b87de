import { createHash } from 'node:crypto';

/** A response with its parsed JSON body (or null). */
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** Reads a response as {@link JsonResponse} (the body parsed as JSON when it is JSON). */
export async function json<T = Record<string, unknown>>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

/** Extra request headers (e.g. `{ 'x-user': 'alice' }`). */
export type Headers0 = Record<string, string>;

/** `POST /upload/` as JSON. */
export async function startUpload(url: string, body: Record<string, unknown>, headers: Headers0 = {}): Promise<JsonResponse> {
  return json(await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

/** `POST /upload/` with a valid body; returns the upload id (asserting 201). */
export async function startOk(url: string, filename: string, totalSize: number, headers: Headers0 = {}): Promise<string> {
  const response = await startUpload(url, { filename, total_size: totalSize }, headers);
  if (response.status !== 201) throw new Error(`start failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.upload_id as string;
}

/** How a chunk is sent. */
export interface PutOptions {
  /** Send as multipart field `file` (frago clients) instead of a raw body. */
  multipart?: boolean;
  headers?: Headers0;
  /** Override the Content-Range header (undefined = computed, null = omitted). */
  contentRange?: string | null;
  signal?: AbortSignal;
}

/** `PUT /upload/:id/` with `bytes` as the range starting at `start`. */
export async function putChunk(url: string, id: string, bytes: Uint8Array, start: number, total: number, options: PutOptions = {}): Promise<JsonResponse> {
  const range = options.contentRange === undefined ? `bytes ${start}-${start + bytes.length - 1}/${total}` : options.contentRange;
  const headers: Headers0 = { ...options.headers };
  if (range !== null) headers['content-range'] = range;
  let body: BodyInit;
  if (options.multipart) {
    const form = new FormData();
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), 'chunk');
    body = form;
  } else {
    headers['content-type'] ??= 'application/octet-stream';
    body = bytes as Uint8Array<ArrayBuffer>;
  }
  return json(await fetch(`${url}/${id}/`, { method: 'PUT', headers, body, signal: options.signal }));
}

/** `POST /upload/:id/` (finalize) as JSON. */
export async function finalize(url: string, id: string, body: Record<string, unknown>, headers: Headers0 = {}): Promise<JsonResponse> {
  return json(await fetch(`${url}/${id}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

/** `GET /upload/:id/`. */
export async function getStatus(url: string, id: string, headers: Headers0 = {}): Promise<JsonResponse> {
  return json(await fetch(`${url}/${id}/`, { headers }));
}

/** `DELETE /upload/:id/`. */
export async function deleteUpload(url: string, id: string, headers: Headers0 = {}): Promise<JsonResponse> {
  return json(await fetch(`${url}/${id}/`, { method: 'DELETE', headers }));
}

/** Deterministic pseudo-random bytes (so failures reproduce). */
export function testBytes(size: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buffer[i] = x & 0xff;
  }
  return buffer;
}

/** Hex digest of `data`. */
export function digest(data: Uint8Array, algorithm = 'md5'): string {
  return createHash(algorithm).update(data).digest('hex');
}

/** Splits `[0, size)` into `[start, end)` pieces of `chunkSize`. */
export function chunkRanges(size: number, chunkSize: number): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < size; start += chunkSize) ranges.push({ start, end: Math.min(start + chunkSize, size) });
  return ranges;
}

/** Uploads `data` whole: start, all chunks in parallel (shuffled), finalize. Returns the id. */
export async function uploadAll(
  url: string,
  filename: string,
  data: Buffer,
  chunkSize: number,
  options: { headers?: Headers0; parallel?: number; algo?: string } = {},
): Promise<string> {
  const id = await startOk(url, filename, data.length, options.headers);
  const ranges = chunkRanges(data.length, chunkSize).sort(() => Math.random() - 0.5);
  const parallel = options.parallel ?? 4;
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < ranges.length) {
        const { start, end } = ranges[next++];
        const response = await putChunk(url, id, data.subarray(start, end), start, data.length, { headers: options.headers });
        if (response.status !== 200) throw new Error(`chunk ${start} failed: ${response.status} ${JSON.stringify(response.body)}`);
      }
    }),
  );
  const algo = options.algo ?? 'md5';
  const done = await finalize(url, id, { checksum: digest(data, algo), checksum_algo: algo }, options.headers);
  if (done.status !== 201) throw new Error(`finalize failed: ${done.status} ${JSON.stringify(done.body)}`);
  return id;
}
