import { createReadStream, createWriteStream } from 'node:fs';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkSizeMismatchError, DigestMismatchError } from '../errors/frago.errors';
import { codeOf, isNotFound } from './s3-client';
import { isRetryable, retrying, unavailable } from './s3-retry';
import { READ_SIZE, removeFile, spool, spoolPath, type SpooledBody } from './spool';

/** Sends one attempt of a body (a fresh stream per call) to S3, aborting the request when `abortSignal` does. */
export type BodySender<T> = (body: Readable, abortSignal?: AbortSignal) => Promise<T>;

/**
 * A chunk body on its way to S3, with the MD5 its `Content-MD5` carries.
 *
 * When the client announced the MD5 (and the length is known), the bytes
 * stream straight into the first request: S3 verifies them against that
 * header (`400 BadDigest` otherwise, answered as a digest mismatch), so
 * nothing waits for the body to be spooled first. A copy goes to a local file
 * at the same time, for reading the chunk back later (the spool cache) and for
 * a second request when the first was refused as a whole (404: the multipart
 * upload was sealed, the chunk then becomes a chunk object). Without an
 * announced MD5 the body is spooled first, its MD5 computed on the way.
 */
export class ChunkBody {
  /** The source not sent yet (a streamed body before its first send). */
  private source: Readable | null;
  /** The local copy holds every byte. */
  private complete: boolean;
  /** The MD5 is the client's (not computed here): S3 refusing it means the client sent wrong bytes or a wrong digest. */
  private readonly clientMd5: boolean;
  /** The local copy is this body's to delete (not taken by the spool cache). */
  private owned = true;

  private constructor(
    readonly size: number,
    /** Base64, for `Content-MD5`. */
    readonly md5: string,
    private readonly copy: SpooledBody,
    source: Readable | null,
    private readonly signal?: AbortSignal,
  ) {
    this.source = source;
    this.complete = source === null;
    this.clientMd5 = source !== null;
  }

  /** Spools `source` first (its MD5 is not known ahead). */
  static async spooled(source: Readable, dir: string, signal?: AbortSignal): Promise<ChunkBody> {
    const copy = await spool(source, dir, signal);
    return new ChunkBody(copy.size, copy.md5, copy, null, signal);
  }

  /** Streams `source` (exactly `size` bytes whose raw MD5 is `md5`) on the first send, keeping a copy in `dir`. */
  static streamed(source: Readable, size: number, md5: Buffer, dir: string, signal?: AbortSignal): ChunkBody {
    const path = spoolPath(dir);
    const copy: SpooledBody = {
      path,
      size,
      md5: md5.toString('base64'),
      open: () => createReadStream(path, { highWaterMark: READ_SIZE }),
      dispose: () => removeFile(path),
    };
    return new ChunkBody(size, copy.md5, copy, source, signal);
  }

  /**
   * Sends the body with `sender`. A spooled body is retried on retryable
   * failures (a fresh stream each time); a streamed one goes once, as it
   * arrives, and after a retryable failure again from its local copy. Rejects with `DigestMismatchError` when S3 found the announced
   * MD5 wrong, with the source's error when it failed, else with S3's.
   */
  async send<T>(sender: BodySender<T>): Promise<T> {
    const source = this.source;
    if (source === null) {
      if (!this.complete) throw unavailable(new Error('S3ChunkStorage: the chunk body was consumed by a failed request'));
      return retrying(() => sender(this.copy.open()), this.signal).catch((error: unknown) => {
        throw this.refusal(error);
      });
    }
    this.source = null;
    return this.streamOnce(source, sender);
  }

  /** A wrong client MD5 (S3's 400 BadDigest) as the domain's digest mismatch; anything else as `unavailable` makes it. */
  private refusal(error: unknown): unknown {
    if (this.clientMd5 && codeOf(error) === 'BadDigest') return new DigestMismatchError('Content-MD5');
    return unavailable(error);
  }

  /** The local copy, once it holds every byte: ownership passes to the caller. Null otherwise. */
  takeCopy(): SpooledBody | null {
    if (!this.complete || !this.owned) return null;
    this.owned = false;
    return this.copy;
  }

  /** Deletes the local copy unless it was taken. Idempotent. */
  async dispose(): Promise<void> {
    if (this.owned) await this.copy.dispose();
  }

  private async streamOnce<T>(source: Readable, sender: BodySender<T>): Promise<T> {
    const signal = this.signal;
    const controller = new AbortController();
    const abort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    const http = new PassThrough({ highWaterMark: READ_SIZE });
    // Set by the feed when the source failed (a cut connection, a wrong length): the request is aborted for it.
    const fed: { failure: { error: unknown } | null } = { failure: null };
    const feeding = this.feed(source, http).catch((error: unknown) => {
      fed.failure = { error };
      controller.abort(error);
      http.destroy();
    });
    try {
      const result = await sender(http, controller.signal);
      await feeding;
      if (fed.failure) throw fed.failure.error;
      return result;
    } catch (error) {
      const bySource = fed.failure; // the source failed first
      http.destroy();
      // 404: refused as a whole (nothing stored). A retryable failure (a 5xx, or the connection lost
      // mid-body, as when the server answered early and closed): sent again from the copy, as a
      // spooled body is. Either way the rest of the source still goes to the copy.
      const again = !bySource && !isNotFound(error) && isRetryable(error);
      if (!bySource && !isNotFound(error) && !again) source.destroy();
      await feeding;
      if (bySource) throw bySource.error;
      if ((isNotFound(error) || again) && fed.failure) throw fed.failure.error;
      if (again && this.complete) return await this.send(sender);
      throw this.refusal(error);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Writes the source to the request and to the local copy; a failing copy only means no copy. */
  private async feed(source: Readable, http: PassThrough): Promise<void> {
    const file = createWriteStream(this.copy.path, { flags: 'wx', highWaterMark: READ_SIZE });
    let fileFailed = false;
    file.on('error', () => {
      fileFailed = true;
    });
    const size = this.size;
    let bytes = 0;
    const fanOut = new Writable({
      highWaterMark: READ_SIZE,
      write(data: Buffer, _encoding, done) {
        bytes += data.length;
        if (bytes > size) {
          done(new ChunkSizeMismatchError(size, bytes));
          return;
        }
        const waits = [http, ...(fileFailed ? [] : [file])].filter((target) => !target.destroyed && !target.write(data));
        if (waits.length === 0) {
          done();
          return;
        }
        void Promise.all(waits.map(drained)).then(() => done());
      },
      final(done) {
        if (bytes !== size) {
          done(new ChunkSizeMismatchError(size, bytes));
          return;
        }
        http.end();
        file.end();
        file.once('close', () => done());
      },
    });
    try {
      await pipeline(source, fanOut);
      this.complete = !fileFailed;
    } finally {
      if (!file.closed) file.destroy();
      if (!this.complete) await this.copy.dispose().catch(() => undefined);
    }
  }
}

/** Resolves once `stream` takes more data (or is gone). */
function drained(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}
