/**
 * The JSON bodies of frago's wire protocol, shared by the server and
 * `nestjs-frago-client` so the two cannot drift. Type-only: importing this file
 * pulls in no runtime code.
 */

/** Lifecycle state of an upload as stored and reported. */
export type UploadStatusValue = 'in_progress' | 'complete' | 'expired';

/** An inclusive byte range `[start, end]`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A stored chunk as reported by the status operation. */
export interface ChunkRange extends ByteRange {
  size: number;
}

/** `POST /upload/` → 201. */
export interface StartUploadResponse {
  status: true;
  upload_id: string;
  message: string;
}

/** `PUT /upload/:id/` → 200. `duplicate` is present when the chunk was already stored. */
export interface ChunkUploadedResponse {
  status: true;
  message: string;
  start: number;
  end: number;
  size: number;
  duplicate?: true;
}

/** `POST /upload/:id/` → 201 (also answered again for an already completed upload). */
export interface FinalizeUploadResponse {
  status: true;
  upload_id: string;
  message: string;
}

/** `GET /upload/:id/` → 200: everything a client needs to resume. */
export interface UploadStatusResponse {
  upload_id: string;
  filename: string;
  total_size: number;
  status: UploadStatusValue;
  created_at: string;
  completed_at: string | null;
  expires_at: string;
  received_bytes: number;
  chunks: ChunkRange[];
  missing: ByteRange[];
}

/** `GET /upload/` → 200: one entry of the caller's upload list. */
export type UploadListEntry = Omit<UploadStatusResponse, 'chunks' | 'missing'>;

/**
 * Every error body. PUT uses the key `error`; POST, GET and DELETE use `message`.
 * `code` is a stable machine-readable code; `missing` accompanies
 * "Not all chunks uploaded".
 */
export interface ErrorResponse {
  status: false;
  code: string;
  error?: string;
  message?: string;
  missing?: ByteRange[];
}
