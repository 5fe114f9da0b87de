import type { ChunkStorage } from 'nestjs-frago';
import type { ExampleConfig } from './env';

/**
 * `FRAGO_STORAGE=s3`: an S3ChunkStorage on `FRAGO_S3_BUCKET` (created when
 * missing). `nestjs-frago/s3` is loaded only then, so a disk-only install
 * needs no AWS SDK. Undefined means the module's default local disk.
 */
export async function createStorage(config: ExampleConfig): Promise<ChunkStorage | undefined> {
  if (config.storage !== 's3' || !config.s3) return undefined;
  const { S3ChunkStorage } = await import('nestjs-frago/s3');
  const { bucket, prefix, endpoint, forcePathStyle } = config.s3;
  return new S3ChunkStorage({ bucket, prefix, createBucket: true, clientConfig: { ...(endpoint ? { endpoint } : {}), forcePathStyle } });
}

/** How the start-up line names the storage. */
export function describeStorage(config: ExampleConfig): string {
  if (config.storage !== 's3' || !config.s3) return `disk (data folder: ${config.dataDir})`;
  return `s3://${config.s3.bucket}/${config.s3.prefix}${config.s3.endpoint ? ` at ${config.s3.endpoint}` : ''}`;
}
