/**
 * The demo's tus way: tus-js-client against the example app's tus endpoint. `parallel` > 1
 * becomes `parallelUploads` (partial uploads the server concatenates).
 */
import { Upload as TusUpload } from 'tus-js-client';
import { TUS_URL, type UploadSettings } from './settings';

/** A new tus-js-client upload of `file`; kept by its row so that Resume continues it (it asks the server for the offset). */
export function createTusUpload(file: File, settings: UploadSettings): TusUpload {
  return new TusUpload(file, {
    endpoint: TUS_URL,
    chunkSize: settings.chunkSize,
    parallelUploads: settings.parallel,
    metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
    retryDelays: [0, 1000, 3000],
    storeFingerprintForResuming: false,
  });
}

export interface TusRunHooks {
  /** The upload's URL is known (or changed). */
  onUrl(url: string | null): void;
  onProgress(sent: number, total: number): void;
  /** The error the run rejects with when its signal aborts. */
  abortError(): Error;
}

/** Starts (or resumes) `tus` with the caller's token; settles once it succeeds, fails or `signal` aborts. */
export function runTusUpload(tus: TusUpload, token: string | undefined, signal: AbortSignal, hooks: TusRunHooks): Promise<void> {
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return new Promise<void>((resolve, reject) => {
    tus.options.headers = headers;
    tus.options.onUploadUrlAvailable = () => hooks.onUrl(tus.url);
    tus.options.onProgress = (sent, total) => {
      hooks.onProgress(sent, total);
    };
    tus.options.onSuccess = () => {
      resolve();
    };
    tus.options.onError = (error) => {
      reject(error);
    };
    signal.addEventListener('abort', () => reject(hooks.abortError()), { once: true });
    tus.start();
  });
}

/** The upload's UUID: the last segment of its URL, the same id `GET /api/upload/<id>/` knows. */
export function tusUploadId(url: string | null): string | undefined {
  const id = url?.split('/').pop();
  return id === '' ? undefined : id;
}
