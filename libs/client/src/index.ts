/**
 * nestjs-frago-client: resumable, parallel, chunked uploads to a frago /
 * nestjs-frago server, for browsers and Node. This entry imports nothing
 * Node-only; `nestjs-frago-client/node` adds a file-system source.
 */
export { upload } from './upload';
export { DEFAULT_CHUNK_SIZE, DEFAULT_PARALLEL } from './options';
export type { UploadOptions, UploadResult } from './options';
export { blobSource, toFileSource } from './file-source';
export type { FileSource, UploadInput } from './file-source';
export { ChecksumMismatchError, ClientErrorCodes, UploadAbortedError, UploadError, isRetryable } from './errors';
export type { UploadErrorInit } from './errors';
export type { UploadPhase, UploadProgress, ProgressListener } from './progress';
export type { ChecksumAlgorithm } from './checksum';
export { FragoApi } from './frago-api';
export type { ChunkRequest, FragoApiOptions } from './frago-api';
export { planFullUpload, planResume } from './chunk-plan';
export { formatBytes } from './format-bytes';
export type { ChunkPlanItem } from './chunk-plan';
/** frago's wire types (requests and answers), listed once in `wire.ts`. */
export type * from './wire';
