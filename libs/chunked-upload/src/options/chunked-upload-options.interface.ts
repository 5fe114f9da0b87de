import type { ConfigurableModuleAsyncOptions, Type } from '@nestjs/common';
import type { ChunkStorage } from '../storage/chunk-storage';
import type { IdentifierStrategy } from '../identifier/identifier-strategy';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import type { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';

/** How the caller's identifier is resolved: a built-in mode or your own strategy class. */
export type IdentifierMode = 'anonymous' | 'user' | Type<IdentifierStrategy>;

/**
 * Options of {@link ChunkedUploadModule}, given to `forRoot()` or returned by
 * the `forRootAsync()` factory. Every field is optional; defaults follow frago.
 * @publicApi
 */
export interface ChunkedUploadOptions {
  /**
   * Who owns an upload: `'anonymous'` (nobody; whoever holds the UUID),
   * `'user'` (`request.user.id`), or a class extending `IdentifierStrategy`
   * (instantiated through Nest DI).
   * @default 'anonymous'
   */
  identifierMode?: IdentifierMode;
  /** Folder for chunk data of uploads in progress (created when missing). @default 'chunked_uploads/' */
  chunkUploadPath?: string;
  /** Folder where assembled files are published (created when missing). @default 'assembled_uploads/' */
  assembledPath?: string;
  /** Default whole-file checksum algorithm when finalize names none; any `crypto.getHashes()` name. @default 'md5' */
  checksumType?: string;
  /** Require and verify a whole-file checksum at finalize. @default true */
  doChecksum?: boolean;
  /** Milliseconds after creation at which an unfinished upload expires. @default 86400000 (1 day) */
  expiration?: number;
  /** Read size in bytes when hashing the assembled data. @default 8388608 (8 MiB) */
  assembleReadSize?: number;
  /** Largest `total_size` accepted, in bytes (413 above). @default 53687091200 (50 GiB) */
  maxUploadSize?: number;
  /** Largest chunk accepted, in bytes (413 above). @default 268435456 (256 MiB) */
  maxChunkSize?: number;
  /** Interval in ms of the expiry sweeper; 0 turns it off. @default 3600000 (1 hour) */
  cleanupInterval?: number;
  /**
   * With the default local-disk storage: flush every chunk to the disk
   * (fdatasync) before acknowledging it, so acknowledged data survives a
   * power loss and not only a crash of the process. Turning it off trades
   * that for throughput on disks with slow syncs.
   * @default true
   */
  fsync?: boolean;
  /** Storage backend for chunk data and assembled files. @default a LocalDiskChunkStorage on the two paths above */
  storage?: ChunkStorage;
  /**
   * How long an unfinished chunk write keeps its byte range reserved without a
   * sign of life (ms). Live writers renew it; it only matters after a crash.
   * @default 60000
   */
  chunkLeaseTimeout?: number;
  /** How long concurrent finalize requests wait for the one doing the work before answering 409 (ms). @default 10000 */
  finalizeWaitTimeout?: number;
  /**
   * How long a finalize claim holds without a sign of life (ms). The live
   * finalizer renews it every third of this while it hashes and publishes,
   * however long the file; a crashed one's claim runs out after it, and
   * finalize or DELETE proceed. @default 10000
   */
  finalizeLeaseTimeout?: number;
  /** Most uploads in progress one identifier may hold (429 above); `null` for no cap. Needs an identifier: with `identifierMode: 'anonymous'` a cap fails the boot. @default null */
  maxActiveUploadsPerIdentifier?: number | null;
  /** Most bytes (sum of `total_size` of uploads in progress) one identifier may reserve (429 above); `null` for no cap. Needs an identifier: with `identifierMode: 'anonymous'` a cap fails the boot. @default null */
  maxActiveBytesPerIdentifier?: number | null;
  /**
   * An answer given before a request's body was read (404, 409, 410, 413, …)
   * reaches the client only if the server reads the rest of the body before
   * closing: a close under a client that is still sending resets the
   * connection and can destroy the answer. The server reads and throws away at
   * most this many bytes after such an answer, then closes.
   * @default 67108864 (64 MiB)
   */
  refusedBodyDrainLimit?: number;
  /** The most milliseconds spent reading the rest of a refused body (see `refusedBodyDrainLimit`). @default 30000 */
  refusedBodyDrainTimeout?: number;
  /**
   * Most connections reading the rest of a refused body at once (see
   * `refusedBodyDrainLimit`), so that many refused requests together cannot
   * make the server read unbounded amounts. Past it, a refused connection
   * closes right after its answer without reading on.
   * @default 64
   */
  refusedBodyDrainSockets?: number;
  /**
   * Most identical chunk requests (twins: same upload, same range) that wait,
   * in this process, for the request writing their range. A waiting twin
   * holds no database connection; past this many, a new twin answers 429
   * `TWIN_WAIT_LIMIT` with `Retry-After` instead of waiting.
   * @default 100
   */
  maxWaitingTwins?: number;
  /**
   * Slowest a chunk body may arrive (bytes/s), measured over every
   * `chunkBodyRateWindow` once the body is being read; 0 turns it off. A
   * body slower than this over a whole window answers 408 `BODY_TOO_SLOW`
   * (the connection closes, nothing is stored, the range is free at once),
   * so a client trickling a byte at a time cannot hold a socket and a
   * reservation. A rate, not a deadline per chunk, so a large chunk on a
   * slow but steady link still finishes. (tus PATCHes read their body on
   * their own path and are not subject to it.)
   * @default 1024
   */
  minChunkBodyRate?: number;
  /** Window (ms) over which `minChunkBodyRate` is measured. @default 30000 */
  chunkBodyRateWindow?: number;
  /**
   * The most milliseconds a twin waits for the request writing its range
   * before it answers 429 `TWIN_WAIT_TIMEOUT` with `Retry-After`. Longer than
   * `chunkLeaseTimeout` by default, so the twin of a writer that crashed gets
   * the range once that writer's lease runs out.
   * @default 90000
   */
  twinWaitTimeout?: number;
  /**
   * How often (ms) waiting twins look, with one non-locking read per range
   * however many wait on it, whether the range is still held: the writer may
   * be another instance, or dead. A writer in this process wakes its twins
   * the moment it finishes, without waiting for this.
   * @default 1000
   */
  twinPollInterval?: number;
  /**
   * Prometheus metrics: `true` registers them on a prom-client
   * Registry of the module's own (serve it with the exported `FragoMetrics`),
   * `{ registry, prefix }` on yours. Needs the optional peer `prom-client`.
   * @default false (off)
   */
  metrics?: boolean | FragoMetricsOptions;
}

/**
 * The slice of a prom-client `Registry` the module uses (structural, so these
 * typings do not need prom-client); pass prom-client's own `register` or a `new Registry()`.
 * @publicApi
 */
export interface FragoMetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  registerMetric(metric: unknown): void;
}

/** Where and under which names the metrics are registered. @publicApi */
export interface FragoMetricsOptions {
  /** The prom-client Registry to register the metrics on. @default a new Registry of the module's own */
  registry?: FragoMetricsRegistry;
  /** Prefix of every metric name. @default 'frago_' */
  prefix?: string;
}

/**
 * Settings the module needs while its graph is built, so they sit at the top
 * level of both `forRoot()` and `forRootAsync()` (they cannot come from an
 * async factory).
 * @publicApi
 */
export interface ChunkedUploadModuleExtras {
  /** Upload entity class (a subclass of `AbstractChunkUpload`). @default ChunkUpload */
  uploadEntity?: Type<AbstractChunkUpload>;
  /** Chunk entity class. @default ChunkedUploadChunk */
  chunkEntity?: Type<ChunkedUploadChunk>;
  /** Controller path of the operations. @default 'upload' */
  routePrefix?: string;
  /**
   * Route of the tus 1.0.0 endpoint, e.g. `'files'`; the uploads
   * it creates live in the same ledger as frago's. Unset (or empty) turns
   * tus off. Needs the `frago_tus_upload` table (in `fragoMigrations`).
   * @default undefined (off)
   */
  tusPath?: string;
  /** Register the module globally so its services are injectable everywhere. @default false */
  isGlobal?: boolean;
}

/**
 * What a class given to `forRootAsync({ useClass })` or `{ useExisting }`
 * implements: it returns the options (or a promise of them).
 * @publicApi
 */
export interface ChunkedUploadOptionsFactory {
  createChunkedUploadOptions(): Promise<ChunkedUploadOptions> | ChunkedUploadOptions;
}

/**
 * Argument of `forRootAsync()`: `imports` plus one of `useFactory` (with
 * `inject`), `useClass` or `useExisting`, beside the definition-time extras.
 * @publicApi
 */
export type ChunkedUploadAsyncOptions = ConfigurableModuleAsyncOptions<ChunkedUploadOptions, 'createChunkedUploadOptions'> & ChunkedUploadModuleExtras;

/** The options after defaults and checks: every field present, frozen. @publicApi */
export interface ResolvedChunkedUploadOptions extends Readonly<Required<Omit<ChunkedUploadOptions, 'storage' | 'metrics'>>> {
  readonly storage: ChunkStorage | null;
  /** null when the metrics are off. */
  readonly metrics: { readonly registry: FragoMetricsRegistry | null; readonly prefix: string } | null;
}
