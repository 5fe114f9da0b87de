/** The errors only the tus 1.0 endpoint raises (core protocol, checksum and concatenation extensions). */
import { FragoError } from './frago-error';

/** tus: the request's `Tus-Resumable` names a version this server does not speak (412). */
export class TusVersionError extends FragoError {
  constructor(received: string | undefined) {
    super('TUS_VERSION_UNSUPPORTED', received ? `Tus-Resumable ${received.slice(0, 20)} is not supported; use 1.0.0` : 'Tus-Resumable: 1.0.0 header required');
  }
}

/** tus: a PATCH body of another content type than `application/offset+octet-stream` (415). */
export class UnsupportedMediaTypeError extends FragoError {
  constructor(expected: string) {
    super('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${expected}`);
  }
}

/** tus: `Upload-Offset` differs from the upload's offset, or another PATCH is writing there (409). */
export class OffsetMismatchError extends FragoError {
  constructor(public readonly offset: number | null) {
    super(
      'OFFSET_MISMATCH',
      offset === null
        ? 'Another request is writing at this offset; ask HEAD for the offset and resume'
        : `Upload-Offset must be ${offset}; ask HEAD for the offset and resume`,
    );
  }
}

/** tus: the body would go past `Upload-Length` (413). */
export class UploadLengthExceededError extends FragoError {
  constructor(length: number) {
    super('UPLOAD_LENGTH_EXCEEDED', `The body goes past the upload's length of ${length} bytes`);
  }
}

/** tus checksum extension: the PATCH body does not match `Upload-Checksum`; nothing was stored (460). */
export class ChunkChecksumMismatchError extends FragoError {
  constructor() {
    super('CHUNK_CHECKSUM_MISMATCH', 'Upload-Checksum does not match the body; nothing was stored, send it again');
  }
}

/** tus concatenation: a final upload takes no PATCH (403). */
export class FinalUploadImmutableError extends FragoError {
  constructor() {
    super('FINAL_UPLOAD_IMMUTABLE', 'A final (concatenated) upload cannot be patched');
  }
}
