import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/** Options of `S3ChunkStorage`. */
export interface S3ChunkStorageOptions {
  /** The bucket that holds chunk objects and published files. Required. */
  bucket: string;
  /**
   * Key prefix of everything frago stores: published files at
   * `<prefix><sanitised name>`, staging objects under `<prefix>.frago/`.
   * A non-empty prefix gets a trailing `/`.
   * @default 'frago/'
   */
  prefix?: string;
  /**
   * A ready client. Create it with `requestChecksumCalculation:
   * 'WHEN_REQUIRED'` (and `responseChecksumValidation: 'WHEN_REQUIRED'`) for
   * Ceph RGW, Swift and MinIO: the SDK's default sends stream bodies as
   * `aws-chunked`, which those engines refuse. When omitted, a client is made
   * from `clientConfig` with those settings.
   */
  client?: S3Client;
  /**
   * Options for the client made when `client` is omitted (`endpoint`,
   * `region`, `credentials`, `forcePathStyle`…). Anything left out comes from
   * the SDK's own chain: `AWS_REGION`, `AWS_ENDPOINT_URL_S3`,
   * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, shared config files, roles.
   * @default {}
   */
  clientConfig?: S3ClientConfig;
  /**
   * Local folder for a copy of each chunk: spooled there first while its MD5
   * is computed when the client sent no `Content-MD5` (S3 needs it before
   * the body), written alongside the request when it did. Needs room for the
   * chunks in flight plus `readCacheBytes`.
   * @default os.tmpdir()
   */
  spoolDir?: string;
  /**
   * Bytes of recently stored chunks kept in `spoolDir` after the bucket
   * acknowledged them, so that reading them back (the incremental whole-file
   * hash, a finalize on the same instance) needs no GET. 0 turns it off.
   * @default 268435456 (256 MiB)
   */
  readCacheBytes?: number;
  /**
   * The engine's minimum size of a multipart part other than the last
   * (uploaded or copied). 5 MiB on AWS S3, MinIO, Ceph RGW and Swift.
   * @default 5242880
   */
  minPartSize?: number;
  /**
   * The engine's maximum number of parts in one multipart upload. When an
   * upload's chunks would need more, publishing gathers neighbouring chunks
   * into bigger parts (streamed through the app once) so it never needs more.
   * 10 000 on AWS S3, MinIO, Ceph RGW and Swift.
   * @default 10000
   */
  maxParts?: number;
  /**
   * Parts composed at once when publishing (`UploadPartCopy`/`UploadPart`).
   * @default 8
   */
  composeConcurrency?: number;
  /**
   * How much older than the expiry cut-off staging objects and multipart
   * uploads must be before the sweep removes them as a crashed instance's
   * leftovers (ms). Covers a finalize still composing an upload that just
   * expired.
   * @default 3600000 (1 hour)
   */
  orphanGrace?: number;
  /**
   * Create the bucket at start when it does not exist.
   * @default false
   */
  createBucket?: boolean;
}
