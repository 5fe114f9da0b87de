import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import type { UploadState } from '../services/upload.service';
import type { UploadListEntry, UploadStatusResponse } from '../protocol/wire.types';

/** The list entry of an upload (its status without chunk details); `receivedBytes` counts while in progress. */
export function toListEntry(upload: AbstractChunkUpload, now = Date.now(), receivedBytes = 0): UploadListEntry {
  const status = upload.effectiveStatus(now);
  return {
    upload_id: upload.id,
    filename: upload.filename,
    total_size: upload.totalSize,
    status,
    created_at: upload.createdAt.toISOString(),
    completed_at: upload.completedAt ? upload.completedAt.toISOString() : null,
    expires_at: upload.expiresAt.toISOString(),
    received_bytes: status === 'complete' ? upload.totalSize : status === 'in_progress' ? receivedBytes : 0,
  };
}

/** The full status answer: enough for a client to resume. */
export function toStatusResponse({ upload, chunks, coverage }: UploadState): UploadStatusResponse {
  return { ...toListEntry(upload), received_bytes: coverage.receivedBytes, chunks, missing: coverage.missing };
}
