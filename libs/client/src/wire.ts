/**
 * The server's wire types, re-exported so every client file imports them from
 * one place. Type-only: nothing from the server package is loaded at run time.
 */
export type {
  ByteRange,
  ChunkRange,
  ChunkUploadedResponse,
  ErrorResponse,
  FinalizeUploadResponse,
  StartUploadResponse,
  UploadStatusResponse,
  UploadStatusValue,
} from 'nestjs-frago';
