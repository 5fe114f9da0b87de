/**
 * The bench's tus client: tus-js-client (what Uppy and most browser apps use) uploading the
 * test file from disk, sequentially or with `parallelUploads` (concatenation). The same client
 * drives the example app's tus endpoint and @tus/server, so the ratio compares the servers.
 */
import { createReadStream } from 'node:fs';
import { Upload } from 'tus-js-client';
import type { UploadTimings } from './uploader';

export interface TusUploadPlan {
  /** Creation URL, e.g. http://127.0.0.1:3000/api/files/ */
  endpoint: string;
  filePath: string;
  fileSize: number;
  /** Sent as the `filename` metadata. */
  filename: string;
  chunkSize: number;
  parallel: number;
}

function seconds(fromNs: bigint, toNs: bigint): number {
  return Number(toNs - fromNs) / 1e9;
}

/** Uploads the file; resolves once the last PATCH is answered, rejects on the client's first error (no retries). */
export function tusUpload(plan: TusUploadPlan, signal?: AbortSignal): Promise<UploadTimings> {
  return new Promise<UploadTimings>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new Error('upload aborted before it started'));
      return;
    }
    let chunks = 0;
    const t0 = process.hrtime.bigint();
    // With parallelUploads the last request is the final upload's creation (the concatenation).
    let finalSent: bigint | null = null;
    let finalAnswered: bigint | null = null;
    const upload = new Upload(createReadStream(plan.filePath), {
      endpoint: plan.endpoint,
      chunkSize: plan.chunkSize,
      parallelUploads: plan.parallel,
      metadata: { filename: plan.filename },
      retryDelays: [],
      storeFingerprintForResuming: false,
      onChunkComplete: () => {
        chunks++;
      },
      onBeforeRequest: (request) => {
        if (request.getMethod() === 'POST' && (request.getHeader('Upload-Concat') ?? '').startsWith('final')) finalSent = process.hrtime.bigint();
      },
      onAfterResponse: (request) => {
        if (finalSent !== null && request.getMethod() === 'POST' && (request.getHeader('Upload-Concat') ?? '').startsWith('final'))
          finalAnswered = process.hrtime.bigint();
      },
      onSuccess: () => {
        signal?.removeEventListener('abort', onAbort);
        const end = process.hrtime.bigint();
        const uploadId = (upload.url ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
        // tus has no finalize request: sequentially the upload is complete when its last PATCH is
        // answered; in parallel the final upload's creation (the concatenation) plays its part.
        const finalize = finalSent !== null && finalAnswered !== null ? seconds(finalSent, finalAnswered) : 0;
        const total = seconds(t0, end);
        resolve({ uploadId, chunks, transferSeconds: total - finalize, finalizeSeconds: finalize, totalSeconds: total });
      },
      onError: (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    });
    const onAbort = (): void => {
      void upload.abort(false);
      reject(new Error('upload aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}
