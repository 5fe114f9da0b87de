/**
 * Event names emitted through `@nestjs/event-emitter`: frago's four
 * signals plus expiry and deletion. Use with `@OnEvent(FragoEvents.UploadCompleted)`.
 * @publicApi
 */
export const FragoEvents = {
  UploadStarted: 'upload.started',
  ChunkReceived: 'chunk.received',
  UploadCompleted: 'upload.completed',
  ChecksumFailed: 'checksum.failed',
  UploadExpired: 'upload.expired',
  UploadDeleted: 'upload.deleted',
} as const;

/** One of {@link FragoEvents}'s values. @publicApi */
export type FragoEventName = (typeof FragoEvents)[keyof typeof FragoEvents];
