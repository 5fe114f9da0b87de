/**
 * `frago-upload --protocol tus`: the same file, sent with tus 1.0 (tus-js-client)
 * to the server's tus endpoint (nestjs-frago's `tusPath`, `files` in the
 * example app) instead of the frago operations. `--parallel N` above 1 uses
 * tus-js-client's `parallelUploads` (N partial uploads the server
 * concatenates, tus concatenation extension); a sequential upload is resumed
 * from its state file (tus-js-client cannot resume a parallel one by URL).
 */
import { createReadStream } from 'node:fs';
import { Upload, type DetailedError } from 'tus-js-client';
import { UploadAbortedError, UploadError } from '../errors';
import type { UploadProgress } from '../progress';

/** What the tus run needs from the command line. */
export interface TusRunOptions {
  /** The tus endpoint (creation URL), e.g. http://127.0.0.1:3000/api/files. */
  endpoint: string;
  path: string;
  name: string;
  size: number;
  chunkSize: number;
  parallel: number;
  headers: Record<string, string>;
  retries?: number;
  /** UUID of an upload to resume (sequential only). */
  resumeId?: string;
  signal: AbortSignal;
  onProgress(progress: UploadProgress): void;
  /** The upload's UUID, once the server created it (sequential: for the state file). */
  onStart(id: string): void;
}

/** How a tus run ended. */
export interface TusRunResult {
  uploadId: string;
  url: string;
  size: number;
  /** Bytes the server already held when the run resumed. */
  resumedBytes: number;
  partialUploads: number;
  durationMs: number;
}

const TUS_HEADERS = { 'Tus-Resumable': '1.0.0' };

/** The offset the server holds for `url` (tus §HEAD), or an UploadError (404/410 when it is gone). */
async function serverOffset(url: string, headers: Record<string, string>, id: string): Promise<number> {
  const answer = await fetch(url, { method: 'HEAD', headers: { ...headers, ...TUS_HEADERS } });
  const offset = Number(answer.headers.get('upload-offset'));
  if (answer.status !== 200 || !Number.isSafeInteger(offset)) {
    throw new UploadError(`HTTP ${answer.status} for the tus upload ${id}`, { status: answer.status, code: 'TUS_HEAD', retryable: false, uploadId: id });
  }
  return offset;
}

/** Delays between retries of one request: `retries` of them, growing from 0.5 s to 8 s. */
function retryDelays(retries: number | undefined): number[] {
  return Array.from({ length: retries ?? 5 }, (_, i) => Math.min(8000, 500 * 2 ** i));
}

/** The UUID in a tus upload URL (its last segment: frago's tus endpoint names uploads by their frago id). */
function idOf(url: string | null): string {
  return url?.split('/').filter(Boolean).pop() ?? '';
}

/** Uploads the file through tus; resolves once the server holds every byte. */
export async function tusUpload(options: TusRunOptions): Promise<TusRunResult> {
  const started = Date.now();
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const parallel = Math.max(1, options.parallel);
  const resumeUrl = options.resumeId !== undefined && parallel === 1 ? `${endpoint}/${options.resumeId}` : undefined;
  const resumedBytes = resumeUrl !== undefined && options.resumeId !== undefined ? await serverOffset(resumeUrl, options.headers, options.resumeId) : 0;
  const progress = (sent: number, phase: UploadProgress['phase']): UploadProgress => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? Math.max(0, sent - resumedBytes) / seconds : 0;
    return {
      uploadId: options.resumeId,
      phase,
      totalBytes: options.size,
      sentBytes: Math.max(0, sent - resumedBytes),
      acknowledgedBytes: sent,
      resumedBytes,
      hashedBytes: 0,
      bytesPerSecond: rate,
      etaSeconds: rate > 0 ? (options.size - sent) / rate : null,
    };
  };
  options.onProgress(progress(resumedBytes, 'starting'));
  const source = createReadStream(options.path);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new Upload(source, {
        endpoint: `${endpoint}/`,
        uploadUrl: resumeUrl ?? null,
        chunkSize: options.chunkSize,
        parallelUploads: parallel,
        metadata: { filename: options.name },
        headers: options.headers,
        retryDelays: retryDelays(options.retries),
        onUploadUrlAvailable: () => {
          if (parallel === 1 && upload.url) options.onStart(idOf(upload.url));
        },
        onProgress: (sent) => {
          options.onProgress(progress(sent, 'uploading'));
        },
        onSuccess: () => {
          resolve(upload.url ?? '');
        },
        onError: (error: Error | DetailedError) => {
          reject(asUploadError(error, idOf(upload.url)));
        },
      });
      const abort = (): void => {
        // Keep what is stored: the same command resumes it.
        void upload.abort(false).finally(() => {
          reject(new UploadAbortedError(idOf(upload.url) || undefined));
        });
      };
      if (options.signal.aborted) abort();
      else options.signal.addEventListener('abort', abort, { once: true });
      upload.start();
    });
    options.onProgress(progress(options.size, 'done'));
    return { uploadId: idOf(url), url, size: options.size, resumedBytes, partialUploads: parallel > 1 ? parallel : 0, durationMs: Date.now() - started };
  } finally {
    source.destroy();
  }
}

/** tus-js-client's error as the client's UploadError (status and a one-line message). */
function asUploadError(error: Error | DetailedError, uploadId: string): UploadError {
  const response = 'originalResponse' in error ? error.originalResponse : null;
  const status = response?.getStatus() ?? 0;
  let message = error.message.split('\n')[0];
  const body = response?.getBody();
  if (body) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not frago's JSON error body: keep tus-js-client's message
    }
  }
  return new UploadError(message, { status, code: 'TUS', retryable: status === 0 || status >= 500, uploadId: uploadId || undefined, cause: error });
}
