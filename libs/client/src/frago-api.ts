/**
 * One method per HTTP operation of frago's protocol, each a single attempt (retries
 * are the caller's business). Every failure becomes an `UploadError`.
 */
import { linkSignals, timeoutSignal } from './abort';
import { ChecksumMismatchError, UploadError } from './errors';
import { errorFromRejection, errorFromResponse, parseJsonBody } from './response-errors';
import type { ChunkUploadedResponse, FinalizeUploadResponse, StartUploadResponse, UploadStatusResponse } from './wire';

/** Connection settings shared by every request. */
export interface FragoApiOptions {
  /** API base, e.g. `http://127.0.0.1:3000/api`; operations live under `${url}/${uploadPath}/`. */
  url: string;
  /** Route prefix of the server's controller. @default 'upload' */
  uploadPath?: string;
  /** Extra headers sent with every request (e.g. an API key). */
  headers?: Record<string, string>;
  /** Bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** `fetch` implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Abort one request after this many ms without an answer (0 = never). @default 300000 */
  requestTimeoutMs?: number;
}

/** A chunk PUT as the caller describes it. */
export interface ChunkRequest {
  /** First byte (inclusive). */
  start: number;
  /** Last byte (inclusive). */
  end: number;
  /** The upload's total size (the `/TOTAL` of `Content-Range`). */
  total: number;
  /** Exactly `end - start + 1` bytes. */
  bytes: Uint8Array;
  /** Optional RFC 9530 `Content-Digest` value. */
  digest?: string;
}

/** Thin, stateless HTTP client for the frago protocol. */
export class FragoApi {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: FragoApiOptions) {
    const prefix = (options.uploadPath ?? 'upload').replace(/^\/+|\/+$/g, '');
    this.base = `${options.url.replace(/\/+$/, '')}/${prefix}/`;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.requestTimeoutMs ?? 300_000;
  }

  /** URL of the collection (`id` omitted) or of one upload. */
  urlOf(id?: string): string {
    return id === undefined ? this.base : `${this.base}${encodeURIComponent(id)}/`;
  }

  /** `POST /upload/` → the new upload's id. */
  async start(filename: string, totalSize: number, signal?: AbortSignal): Promise<StartUploadResponse> {
    const body = { filename, total_size: totalSize };
    return (await this.send(this.urlOf(), 'POST', signal, undefined, { json: body })) as StartUploadResponse;
  }

  /** `PUT /upload/:id/` with a raw body; a `duplicate: true` answer is a success too. */
  async putChunk(id: string, chunk: ChunkRequest, signal?: AbortSignal): Promise<ChunkUploadedResponse> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `bytes ${chunk.start}-${chunk.end}/${chunk.total}`,
    };
    if (chunk.digest !== undefined) headers['Content-Digest'] = chunk.digest;
    return (await this.send(this.urlOf(id), 'PUT', signal, id, { headers, body: chunk.bytes })) as ChunkUploadedResponse;
  }

  /** `POST /upload/:id/` with the whole-file checksum; a 400 "Checksum mismatch" becomes `ChecksumMismatchError`. */
  async finalize(id: string, checksum: { checksum: string; checksum_algo: string } | undefined, signal?: AbortSignal): Promise<FinalizeUploadResponse> {
    try {
      return (await this.send(this.urlOf(id), 'POST', signal, id, { json: checksum ?? {} })) as FinalizeUploadResponse;
    } catch (error) {
      if (error instanceof UploadError && error.status === 400 && /checksum.?mismatch/i.test(`${error.message} ${error.code}`)) {
        throw new ChecksumMismatchError(error.message, id);
      }
      throw error;
    }
  }

  /** `GET /upload/:id/`: what the server holds, to resume. */
  async status(id: string, signal?: AbortSignal): Promise<UploadStatusResponse> {
    return (await this.send(this.urlOf(id), 'GET', signal, id, {})) as UploadStatusResponse;
  }

  /** `DELETE /upload/:id/` → 204; a 404 (already gone) counts as done. */
  async remove(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.send(this.urlOf(id), 'DELETE', signal, id, {});
    } catch (error) {
      if (!(error instanceof UploadError && error.status === 404)) throw error;
    }
  }

  /**
   * One request and its JSON answer: headers, timeout, and every non-2xx,
   * rejection or broken body turned into an `UploadError`.
   */
  private async send(
    url: string,
    method: string,
    signal: AbortSignal | undefined,
    uploadId: string | undefined,
    content: { json?: unknown; body?: Uint8Array; headers?: Record<string, string> },
  ): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json', ...this.options.headers, ...content.headers };
    if (this.options.token !== undefined) headers.Authorization = `Bearer ${this.options.token}`;
    let body: BodyInit | undefined = content.body as BodyInit | undefined;
    if (content.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(content.json);
    }
    const timeout = timeoutSignal(this.timeoutMs);
    const linked = linkSignals(signal, timeout.signal);
    try {
      const response = await this.fetchImpl(url, { method, headers, body, signal: linked.signal });
      if (!response.ok) throw await errorFromResponse(response, uploadId);
      return parseJsonBody(await response.text(), response, uploadId);
    } catch (error) {
      throw errorFromRejection(error, url, signal, uploadId);
    } finally {
      timeout.dispose();
      linked.dispose();
    }
  }
}
