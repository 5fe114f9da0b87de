import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from './s3-client';
import { retrying, unavailable } from './s3-retry';

/** A listed object: its key and when it was last written. */
export interface ListedObject {
  Key?: string;
  LastModified?: Date;
}

/** The bucket-level requests S3ChunkStorage, its composer and its sweep share (retried where that is safe). */
export class S3Objects {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  /** Every object under `prefix`, page by page (ListObjectsV2). */
  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await retrying(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes every object under `prefix`, 1 000 per DeleteObjects. */
  async deleteAll(prefix: string): Promise<void> {
    let batch: { Key: string }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const Objects = batch;
      batch = [];
      await retrying(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } })));
    };
    for await (const object of this.list(prefix)) {
      if (object.Key) batch.push({ Key: object.Key });
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  async delete(key: string): Promise<void> {
    await retrying(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** HeadObject, or null when there is no such object. */
  async head(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await retrying(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable(error);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  /** The body of a small object as text, or null when there is no such object. */
  async text(key: string): Promise<string | null> {
    try {
      const response = await retrying(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      return await (response.Body as { transformToString(): Promise<string> }).transformToString();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable(error);
    }
  }
}
