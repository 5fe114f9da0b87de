/**
 * Lifecycle states of an upload: in progress until finalized (complete) or past its expiration (expired).
 * @publicApi
 */
export const UploadStatus = {
  InProgress: 'in_progress',
  Complete: 'complete',
  Expired: 'expired',
} as const;

/** One of {@link UploadStatus}'s values. @publicApi */
export type UploadStatus = (typeof UploadStatus)[keyof typeof UploadStatus];
