import { it } from 'node:test';
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createS3Client } from 'nestjs-frago/s3';

/** The S3 endpoint the S3 tests run against (`scripts/ceph.sh start` prints one), or null. */
export function testS3Config(): (S3ClientConfig & { endpoint: string }) | null {
  const endpoint = process.env.TEST_S3_ENDPOINT;
  if (!endpoint) return null;
  return {
    endpoint,
    region: process.env.TEST_S3_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? '', secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? '' },
  };
}

/**
 * Says loudly that a file's S3 tests do not run; under CI=true that is a
 * failing test, since CI must run them against a real engine (.ci/run starts Ceph).
 */
export function reportS3Skipped(what: string): void {
  const message = `S3 tests SKIPPED (${what}): set TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY (scripts/ceph.sh start prints them)`;
  console.warn(`\n${'!'.repeat(message.length)}\n${message}\n${'!'.repeat(message.length)}\n`);
  if (process.env.CI === 'true') {
    it(`runs the S3 tests (${what}) in CI`, () => {
      throw new Error(`${message}; CI=true does not allow skipping them`);
    });
  } else {
    it(`S3 tests (${what}) skipped: TEST_S3_ENDPOINT is not set`, { skip: 'TEST_S3_ENDPOINT is not set' }, () => undefined);
  }
}

/** A fresh bucket for one test file, emptied and deleted by `drop()`. */
export interface TestBucket {
  name: string;
  client: S3Client;
  config: S3ClientConfig;
  /** Every key in the bucket under `prefix`. */
  keys(prefix?: string): Promise<string[]>;
  /** Keys of the multipart uploads in progress under `prefix`. */
  multipartUploads(prefix?: string): Promise<string[]>;
  /** The bytes at `key`, or null. */
  get(key: string): Promise<Buffer | null>;
  drop(): Promise<void>;
}

export async function createTestBucket(config: S3ClientConfig): Promise<TestBucket> {
  const client = createS3Client(config);
  const name = `frago-t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  const bucket: TestBucket = {
    name,
    client,
    config,
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: name, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async multipartUploads(prefix = '') {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: name, Prefix: prefix }));
      return (page.Uploads ?? []).map((upload) => upload.Key as string);
    },
    async get(key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
        return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async drop() {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
      for (const upload of page.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: name, Key: upload.Key, UploadId: upload.UploadId })).catch(() => undefined);
      }
      for (;;) {
        const keys = await bucket.keys();
        if (keys.length === 0) break;
        for (let i = 0; i < keys.length; i += 1000) {
          await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
        }
      }
      await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
      client.destroy();
    },
  };
  return bucket;
}
