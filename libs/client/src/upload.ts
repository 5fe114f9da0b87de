/**
 * `upload()`: start or resume, read the file once in order (hashing as it
 * goes), send the needed chunks in parallel with retries, then finalize with
 * the whole-file checksum.
 */
import { linkSignals, type LinkedSignal } from './abort';
import { contentDigest, createIncrementalHash, type IncrementalHash } from './checksum';
import type { ChunkPlanItem } from './chunk-plan';
import { ClientErrorCodes, UploadAbortedError, UploadError } from './errors';
import { FragoApi } from './frago-api';
import { toFileSource, type FileSource, type UploadInput } from './file-source';
import { resolveUploadOptions, type ResolvedUploadOptions, type UploadOptions, type UploadResult } from './options';
import { ProgressTracker } from './progress';
import { withRetry, type RetryListener } from './retry';
import { TaskPool } from './task-pool';
import { openSession, type UploadSession } from './upload-session';

/**
 * Uploads `file` to a frago / nestjs-frago server and resolves once the server
 * has confirmed it (201 on finalize). Rejects with an `UploadError`
 * (`ChecksumMismatchError`, `UploadAbortedError`, …) carrying the upload id
 * when one was started, so the caller can resume with `uploadId`.
 * The source's `close()`, if any, is called when the upload ends.
 */
export async function upload(file: UploadInput, options: UploadOptions): Promise<UploadResult> {
  const resolved = resolveUploadOptions(options);
  const source = toFileSource(file, resolved.filename);
  try {
    return await new UploadRun(source, resolved).execute();
  } finally {
    await source.close?.();
  }
}

/** The state of one call to `upload()`. */
class UploadRun {
  private readonly api: FragoApi;
  private readonly progress: ProgressTracker;
  private readonly internal = new AbortController();
  private readonly linked: LinkedSignal;
  private readonly signal: AbortSignal;
  private readonly startedAt = Date.now();
  private session?: UploadSession;
  private pool?: TaskPool;
  private retries = 0;
  private chunksSent = 0;
  private sentBytes = 0;
  private readonly onRetry: RetryListener = (error, attempt, delay) => {
    this.retries++;
    this.options.onRetry?.(error, attempt, delay);
  };

  constructor(
    private readonly source: FileSource,
    private readonly options: ResolvedUploadOptions,
  ) {
    this.api = new FragoApi(options);
    this.progress = new ProgressTracker(source.size, options.onProgress);
    this.linked = linkSignals(options.signal, this.internal.signal);
    this.signal = this.linked.signal;
  }

  /** Opens the session, transfers, finalizes; any failure goes through `fail()`. */
  async execute(): Promise<UploadResult> {
    try {
      if (this.options.signal?.aborted) throw new UploadAbortedError(undefined, this.options.signal.reason);
      const session = await openSession({
        api: this.api,
        source: this.source,
        chunkSize: this.options.chunkSize,
        uploadId: this.options.uploadId,
        policy: this.options.retryPolicy,
        signal: this.signal,
        onRetry: this.onRetry,
      });
      this.session = session;
      this.options.onStart?.(session.id);
      this.progress.begin(session.id, session.resumedBytes);
      const checksum = await this.transfer(session.id, session.plan);
      return await this.finalize(session, checksum);
    } catch (error) {
      throw await this.fail(error);
    } finally {
      this.linked.dispose();
    }
  }

  /** Reads every piece in file order, hashing it; hands the ones to send to the pool. Returns the hex digest. */
  private async transfer(id: string, plan: readonly ChunkPlanItem[]): Promise<string | undefined> {
    const hash = this.options.checksum === false ? undefined : await createIncrementalHash(this.options.checksum);
    const pool = new TaskPool(this.options.parallel, () => this.internal.abort());
    this.pool = pool;
    for (const item of plan) {
      // Wait for a free slot before reading, so at most `parallel` chunks are held in memory.
      if (item.send) await pool.slot();
      if (this.signal.aborted) break;
      const bytes = await this.read(item, hash);
      if (item.send) await pool.add(() => this.sendChunk(id, item, bytes));
    }
    await pool.drain();
    if (this.signal.aborted) throw new UploadAbortedError(this.session?.id, this.options.signal?.reason);
    return hash?.digestHex();
  }

  /** Reads one piece and feeds it to the checksum. */
  private async read(item: ChunkPlanItem, hash: IncrementalHash | undefined): Promise<Uint8Array> {
    const length = item.end - item.start + 1;
    let bytes: Uint8Array;
    try {
      bytes = await this.source.slice(item.start, item.end + 1);
    } catch (cause) {
      throw this.readError(`Could not read bytes ${item.start}-${item.end}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    }
    if (bytes.length !== length) {
      throw this.readError(`Read ${bytes.length} bytes at offset ${item.start}, expected ${length}; did the file change?`);
    }
    hash?.update(bytes);
    this.progress.hashed(length);
    return bytes;
  }

  private readError(message: string, cause?: unknown): UploadError {
    return new UploadError(message, { status: 0, code: ClientErrorCodes.ReadError, retryable: false, uploadId: this.session?.id, cause });
  }

  /** Sends one chunk with retries; a `duplicate: true` answer (the server already has it) counts as success. */
  private async sendChunk(id: string, item: ChunkPlanItem, bytes: Uint8Array): Promise<void> {
    const digest = this.options.chunkDigest ? await contentDigest(bytes) : undefined;
    const chunk = { start: item.start, end: item.end, total: this.source.size, bytes, digest };
    this.sentBytes += bytes.length;
    this.chunksSent++;
    this.progress.sent(bytes.length);
    await withRetry(() => this.api.putChunk(id, chunk, this.signal), this.options.retryPolicy, this.signal, this.onRetry);
    this.progress.acknowledged(bytes.length);
  }

  /** Finalizes with the checksum; 409 "Upload is being finalized" is retried by the policy. */
  private async finalize(session: UploadSession, checksum: string | undefined): Promise<UploadResult> {
    this.progress.phase('finalizing');
    const algorithm = this.options.checksum === false ? null : this.options.checksum;
    const body = checksum !== undefined && algorithm !== null ? { checksum, checksum_algo: algorithm } : undefined;
    // The answer's JSON is untrusted (a proxy may answer 2xx with anything): only a string message is kept.
    const done = (await withRetry(() => this.api.finalize(session.id, body, this.signal), this.options.retryPolicy, this.signal, this.onRetry)) as {
      message?: unknown;
    } | null;
    this.progress.phase('done');
    return {
      uploadId: session.id,
      filename: this.source.name,
      size: this.source.size,
      checksum: checksum ?? null,
      algorithm,
      message: typeof done?.message === 'string' ? done.message : '',
      resumed: session.resumed,
      resumedBytes: session.resumedBytes,
      sentBytes: this.sentBytes,
      chunksSent: this.chunksSent,
      retries: this.retries,
      durationMs: Date.now() - this.startedAt,
    };
  }

  /** Stops in-flight work, deletes the upload when cancelled with `deleteOnCancel`, and shapes the error. */
  private async fail(error: unknown): Promise<UploadError> {
    this.internal.abort();
    await this.pool?.drain().catch(() => undefined); // siblings fail with aborts; the first error is `error`
    const id = this.session?.id;
    const userAborted = this.options.signal?.aborted === true;
    const shaped = userAborted
      ? new UploadAbortedError(id, this.options.signal?.reason)
      : error instanceof UploadError
        ? error
        : new UploadError(error instanceof Error ? error.message : String(error), {
            status: 0,
            code: 'CLIENT_ERROR',
            retryable: false,
            uploadId: id,
            cause: error,
          });
    shaped.uploadId ??= id;
    if (userAborted && this.options.deleteOnCancel && id !== undefined) {
      // Best effort: if the DELETE fails too, the server's expiry sweeper removes the upload later.
      await this.api.remove(id).catch(() => undefined);
    }
    return shaped;
  }
}
