export { S3ChunkStorage } from './s3-chunk.storage';
export type { S3ChunkStorageOptions } from './s3-chunk-storage.options';
export { createS3Client, addDeleteObjectsContentMd5 } from './s3-client';
