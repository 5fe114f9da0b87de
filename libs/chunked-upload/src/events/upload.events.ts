import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';

/** Payload of `upload.started`: a new upload was created. @publicApi */
export class UploadStartedEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(public readonly upload: U) {}
}

/** Payload of `chunk.received`: a chunk's bytes are durably stored and recorded. @publicApi */
export class ChunkReceivedEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(
    public readonly upload: U,
    public readonly start: number,
    /** Inclusive. */
    public readonly end: number,
    public readonly size: number,
  ) {}
}

/** Payload of `upload.completed`: the file is verified and published. @publicApi */
export class UploadCompletedEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(
    public readonly upload: U,
    /** Backend location of the assembled file (an absolute path on local disk). */
    public readonly location: string,
  ) {}
}

/** Payload of `checksum.failed`: finalize found other bytes than the client hashed. @publicApi */
export class ChecksumFailedEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(
    public readonly upload: U,
    public readonly algorithm: string,
    public readonly expected: string,
    public readonly actual: string,
  ) {}
}

/** Payload of `upload.expired`: the sweeper expired the upload and removed its data. @publicApi */
export class UploadExpiredEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(public readonly upload: U) {}
}

/** Payload of `upload.deleted`: a client aborted the upload (DELETE). @publicApi */
export class UploadDeletedEvent<U extends AbstractChunkUpload = AbstractChunkUpload> {
  constructor(public readonly upload: U) {}
}

/** Maps each event name to its payload type, for typed emit and listeners. @publicApi */
export interface FragoEventPayloads {
  'upload.started': UploadStartedEvent;
  'chunk.received': ChunkReceivedEvent;
  'upload.completed': UploadCompletedEvent;
  'checksum.failed': ChecksumFailedEvent;
  'upload.expired': UploadExpiredEvent;
  'upload.deleted': UploadDeletedEvent;
}
