/**
 * Opening an upload: start a new one, or resume one from the server's status
 * (`GET /upload/:id/` lists the stored chunks) and plan only the missing ranges.
 */
import { planFullUpload, planResume, type ChunkPlanItem } from './chunk-plan';
import { ClientErrorCodes, UploadError } from './errors';
import type { FragoApi } from './frago-api';
import type { FileSource } from './file-source';
import { withRetry, type RetryListener, type RetryPolicy } from './retry';
import type { StartUploadResponse } from './wire';

/** An opened upload: its id and the work left. */
export interface UploadSession {
  /** The server's id. */
  id: string;
  /** Every piece of the file in order; `send` marks the ones the server lacks. */
  plan: ChunkPlanItem[];
  /** Bytes the server already holds. */
  resumedBytes: number;
  /** True when an existing upload was resumed. */
  resumed: boolean;
}

/** What opening needs. */
export interface OpenSessionInput {
  api: FragoApi;
  source: FileSource;
  chunkSize: number;
  uploadId?: string;
  policy: RetryPolicy;
  signal: AbortSignal;
  onRetry: RetryListener;
}

/** Starts a new upload, or resumes `uploadId` after checking it matches the file. */
export async function openSession(input: OpenSessionInput): Promise<UploadSession> {
  const { api, source, chunkSize, uploadId, policy, signal, onRetry } = input;
  if (uploadId === undefined) {
    // The answer's JSON is untrusted (a proxy may answer 2xx with anything).
    const started = (await withRetry(() => api.start(source.name, source.size, signal), policy, signal, onRetry)) as Partial<StartUploadResponse> | null;
    if (typeof started?.upload_id !== 'string' || started.upload_id === '') {
      throw new UploadError('The server did not return an upload_id', {
        status: 201,
        code: ClientErrorCodes.BadResponse,
        retryable: false,
      });
    }
    return { id: started.upload_id, plan: planFullUpload(source.size, chunkSize), resumedBytes: 0, resumed: false };
  }
  const status = await withRetry(() => api.status(uploadId, signal), policy, signal, onRetry);
  if (status.total_size !== source.size) {
    throw new UploadError(`Upload ${uploadId} is for ${status.total_size} bytes but the file has ${source.size}; start a new upload`, {
      status: 0,
      code: ClientErrorCodes.ResumeMismatch,
      retryable: false,
      uploadId,
    });
  }
  if (status.status === 'expired') {
    throw new UploadError(`Upload ${uploadId} has expired; start a new upload`, {
      status: 410,
      code: 'UPLOAD_EXPIRED',
      retryable: false,
      uploadId,
    });
  }
  // A complete upload holds every byte: read them all for the checksum, send none.
  const missing = status.status === 'complete' ? [] : status.missing;
  const resumedBytes = status.status === 'complete' ? status.total_size : status.received_bytes;
  return { id: uploadId, plan: planResume(source.size, missing, chunkSize), resumedBytes, resumed: true };
}
