import { createHash } from 'node:crypto';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

const MD5_MIDDLEWARE = 'fragoDeleteObjectsContentMd5';

/**
 * An S3Client with the settings every S3-compatible engine needs:
 * checksums only where the API requires them (the SDK's default sends stream
 * bodies as `aws-chunked` with a CRC32 trailer, which Ceph RGW answers with
 * 411 and Swift with 501; frago sends `Content-MD5` instead, which the
 * engines verify). Everything else comes from `config` and the SDK's own
 * chain (`AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_ACCESS_KEY_ID`, profiles…).
 */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  const client = new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    logger: QUIET_RETRY_LOGGER,
    ...config,
  });
  addDeleteObjectsContentMd5(client);
  return client;
}

/**
 * As the SDK's default (silent) logger, except that the SDK prints "An error
 * was encountered in a non-retryable streaming request." to the console for
 * every failed request with a stream body when its logger is the default:
 * frago answers those failures itself (a refused chunk, a cut connection).
 * Other warnings still reach the console.
 */
const QUIET_RETRY_LOGGER: NonNullable<S3ClientConfig['logger']> = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => {
    if (!(typeof content[0] === 'string' && content[0].includes('non-retryable streaming request'))) console.warn(...content);
  },
  error: () => undefined,
};

/** The slice of an HTTP request the middleware touches. */
interface RequestLike {
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * DeleteObjects: this SDK sends `x-amz-checksum-crc32` where S3 documents
 * `Content-MD5`; Swift refuses the request without it. Adds the MD5 of the
 * XML body (idempotent per client).
 */
export function addDeleteObjectsContentMd5(client: S3Client): void {
  const stack = client.middlewareStack;
  if (stack.identify().some((entry) => entry.startsWith(MD5_MIDDLEWARE))) return;
  stack.add(
    (next, context) => async (args) => {
      const request = args.request as RequestLike | undefined;
      if (context.commandName === 'DeleteObjectsCommand' && request?.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: MD5_MIDDLEWARE, priority: 'low' },
  );
}

/** The HTTP status of an SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`…) of an SDK error. */
export function codeOf(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string } | undefined;
  return e?.Code ?? e?.name;
}

/** True for "no such key/upload" answers (404 of any kind). */
export function isNotFound(error: unknown): boolean {
  const code = codeOf(error);
  return statusOf(error) === 404 || code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload';
}
