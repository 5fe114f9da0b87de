import {
  DEFAULT_ASSEMBLE_READ_SIZE,
  DEFAULT_ASSEMBLED_PATH,
  DEFAULT_CHECKSUM_TYPE,
  DEFAULT_CHUNK_LEASE_MS,
  DEFAULT_CHUNK_UPLOAD_PATH,
  DEFAULT_CLEANUP_INTERVAL_MS,
  DEFAULT_EXPIRATION_MS,
  DEFAULT_FINALIZE_LEASE_MS,
  DEFAULT_FINALIZE_WAIT_MS,
  DEFAULT_MAX_CHUNK_SIZE,
  DEFAULT_MAX_UPLOAD_SIZE,
  DEFAULT_REFUSED_BODY_DRAIN_LIMIT,
  DEFAULT_REFUSED_BODY_DRAIN_MS,
  DEFAULT_MAX_WAITING_TWINS,
  DEFAULT_MIN_CHUNK_BODY_RATE,
  DEFAULT_CHUNK_BODY_RATE_WINDOW_MS,
  DEFAULT_REFUSED_BODY_DRAIN_SOCKETS,
  DEFAULT_TWIN_POLL_MS,
  DEFAULT_TWIN_WAIT_MS,
} from '../chunked-upload.constants';
import { isSupportedHash } from '../domain/hash-algorithms';
import { ChunkStorage } from '../storage/chunk-storage';
import { IdentifierStrategy } from '../identifier/identifier-strategy';
import type { ChunkedUploadOptions, FragoMetricsRegistry, ResolvedChunkedUploadOptions } from './chunked-upload-options.interface';
import { FRAGO_MODULE_EXTRA_KEYS } from './module-extras';

/** Thrown at boot when an option is invalid; the message names the option and the value. @publicApi */
export class InvalidFragoOptionError extends Error {
  constructor(option: string, value: unknown, expectation: string) {
    super(`nestjs-frago: invalid option "${option}" (received ${describe(value)}): ${expectation}`);
    this.name = 'InvalidFragoOptionError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  // An object made by Object.create(null) has no constructor.
  return (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidFragoOptionError(name, value, 'expected a positive integer');
  }
  return value;
}

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidFragoOptionError(name, value, 'expected an integer ≥ 0 (0 turns it off)');
  }
  return value;
}

function optionalCap(name: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return positiveInteger(name, value, 0);
}

function folder(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) {
    throw new InvalidFragoOptionError(name, value, 'expected a non-empty folder path');
  }
  return value;
}

function checksumType(value: unknown): string {
  if (value === undefined) return DEFAULT_CHECKSUM_TYPE;
  if (typeof value !== 'string' || !isSupportedHash(value)) {
    throw new InvalidFragoOptionError('checksumType', value, 'expected an algorithm name from crypto.getHashes(), e.g. "md5" or "sha256"');
  }
  return value.toLowerCase();
}

function identifierMode(value: unknown): ResolvedChunkedUploadOptions['identifierMode'] {
  if (value === undefined) return 'anonymous';
  if (value === 'anonymous' || value === 'user') return value;
  if (typeof value === 'function' && value.prototype instanceof IdentifierStrategy) {
    return value as ResolvedChunkedUploadOptions['identifierMode'];
  }
  throw new InvalidFragoOptionError('identifierMode', value, "expected 'anonymous', 'user' or a class extending IdentifierStrategy");
}

function storage(value: unknown): ChunkStorage | null {
  if (value === undefined || value === null) return null;
  if (value instanceof ChunkStorage) return value;
  throw new InvalidFragoOptionError('storage', value, 'expected an instance of a class extending ChunkStorage');
}

function metrics(value: unknown): ResolvedChunkedUploadOptions['metrics'] {
  if (value === undefined || value === false) return null;
  if (value === true) return { registry: null, prefix: 'frago_' };
  if (typeof value !== 'object' || value === null) throw new InvalidFragoOptionError('metrics', value, 'expected true, false or { registry?, prefix? }');
  const { registry, prefix, ...rest } = value as { registry?: unknown; prefix?: unknown };
  const unknown = Object.keys(rest).at(0);
  if (unknown !== undefined)
    throw new InvalidFragoOptionError(`metrics.${unknown}`, (rest as Record<string, unknown>)[unknown], 'unknown option (expected registry or prefix)');
  if (
    registry !== undefined &&
    (typeof registry !== 'object' || registry === null || typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function')
  ) {
    throw new InvalidFragoOptionError('metrics.registry', registry, "expected a prom-client Registry (e.g. prom-client's register, or new Registry())");
  }
  // Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))) {
    throw new InvalidFragoOptionError('metrics.prefix', prefix, 'expected the start of a Prometheus metric name, e.g. "frago_" (letters, digits, _ and :)');
  }
  return { registry: (registry as FragoMetricsRegistry | undefined) ?? null, prefix: prefix ?? 'frago_' };
}

const KNOWN_KEYS = new Set<string>([
  'identifierMode',
  'chunkUploadPath',
  'assembledPath',
  'checksumType',
  'doChecksum',
  'expiration',
  'assembleReadSize',
  'fsync',
  'maxUploadSize',
  'maxChunkSize',
  'cleanupInterval',
  'storage',
  'chunkLeaseTimeout',
  'finalizeWaitTimeout',
  'finalizeLeaseTimeout',
  'maxActiveUploadsPerIdentifier',
  'maxActiveBytesPerIdentifier',
  'refusedBodyDrainLimit',
  'refusedBodyDrainTimeout',
  'refusedBodyDrainSockets',
  'maxWaitingTwins',
  'minChunkBodyRate',
  'chunkBodyRateWindow',
  'twinWaitTimeout',
  'twinPollInterval',
  'metrics',
]);

/**
 * The one place where defaults are applied and options validated; a bad value fails the boot naming the option.
 * Called once at boot; returns a frozen object.
 */
export function resolveChunkedUploadOptions(raw: ChunkedUploadOptions | undefined): ResolvedChunkedUploadOptions {
  const input: ChunkedUploadOptions = raw ?? {};
  for (const key of Object.keys(input)) {
    // Settings read while the module graph is built: `forRoot()` takes them beside the
    // options, `forRootAsync()` only at its top level.
    if (FRAGO_MODULE_EXTRA_KEYS.has(key)) {
      throw new InvalidFragoOptionError(
        key,
        (input as Record<string, unknown>)[key],
        `returned by the forRootAsync() factory, where it would be ignored (the module's entities and routes are set before the factory runs): ` +
          `put it at the top level, ChunkedUploadModule.forRootAsync({ ${key}: …, useFactory: … })`,
      );
    }
    if (!KNOWN_KEYS.has(key)) throw new InvalidFragoOptionError(key, (input as Record<string, unknown>)[key], 'unknown option');
  }
  for (const flag of ['doChecksum', 'fsync'] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== 'boolean') {
      throw new InvalidFragoOptionError(flag, input[flag], 'expected true or false');
    }
  }
  const resolved: ResolvedChunkedUploadOptions = {
    identifierMode: identifierMode(input.identifierMode),
    chunkUploadPath: folder('chunkUploadPath', input.chunkUploadPath, DEFAULT_CHUNK_UPLOAD_PATH),
    assembledPath: folder('assembledPath', input.assembledPath, DEFAULT_ASSEMBLED_PATH),
    checksumType: checksumType(input.checksumType),
    doChecksum: input.doChecksum ?? true,
    fsync: input.fsync ?? true,
    expiration: positiveInteger('expiration', input.expiration, DEFAULT_EXPIRATION_MS),
    assembleReadSize: positiveInteger('assembleReadSize', input.assembleReadSize, DEFAULT_ASSEMBLE_READ_SIZE),
    maxUploadSize: positiveInteger('maxUploadSize', input.maxUploadSize, DEFAULT_MAX_UPLOAD_SIZE),
    maxChunkSize: positiveInteger('maxChunkSize', input.maxChunkSize, DEFAULT_MAX_CHUNK_SIZE),
    cleanupInterval: nonNegativeInteger('cleanupInterval', input.cleanupInterval, DEFAULT_CLEANUP_INTERVAL_MS),
    storage: storage(input.storage),
    chunkLeaseTimeout: positiveInteger('chunkLeaseTimeout', input.chunkLeaseTimeout, DEFAULT_CHUNK_LEASE_MS),
    finalizeWaitTimeout: nonNegativeInteger('finalizeWaitTimeout', input.finalizeWaitTimeout, DEFAULT_FINALIZE_WAIT_MS),
    finalizeLeaseTimeout: positiveInteger('finalizeLeaseTimeout', input.finalizeLeaseTimeout, DEFAULT_FINALIZE_LEASE_MS),
    maxActiveUploadsPerIdentifier: optionalCap('maxActiveUploadsPerIdentifier', input.maxActiveUploadsPerIdentifier),
    maxActiveBytesPerIdentifier: optionalCap('maxActiveBytesPerIdentifier', input.maxActiveBytesPerIdentifier),
    refusedBodyDrainLimit: nonNegativeInteger('refusedBodyDrainLimit', input.refusedBodyDrainLimit, DEFAULT_REFUSED_BODY_DRAIN_LIMIT),
    refusedBodyDrainTimeout: nonNegativeInteger('refusedBodyDrainTimeout', input.refusedBodyDrainTimeout, DEFAULT_REFUSED_BODY_DRAIN_MS),
    refusedBodyDrainSockets: nonNegativeInteger('refusedBodyDrainSockets', input.refusedBodyDrainSockets, DEFAULT_REFUSED_BODY_DRAIN_SOCKETS),
    minChunkBodyRate: nonNegativeInteger('minChunkBodyRate', input.minChunkBodyRate, DEFAULT_MIN_CHUNK_BODY_RATE),
    chunkBodyRateWindow: positiveInteger('chunkBodyRateWindow', input.chunkBodyRateWindow, DEFAULT_CHUNK_BODY_RATE_WINDOW_MS),
    maxWaitingTwins: positiveInteger('maxWaitingTwins', input.maxWaitingTwins, DEFAULT_MAX_WAITING_TWINS),
    twinWaitTimeout: positiveInteger('twinWaitTimeout', input.twinWaitTimeout, DEFAULT_TWIN_WAIT_MS),
    twinPollInterval: positiveInteger('twinPollInterval', input.twinPollInterval, DEFAULT_TWIN_POLL_MS),
    metrics: metrics(input.metrics),
  };
  if (resolved.identifierMode === 'anonymous') {
    // Quotas count per identifier and anonymous callers have none: a cap here would be silently ignored.
    for (const cap of ['maxActiveUploadsPerIdentifier', 'maxActiveBytesPerIdentifier'] as const) {
      if (resolved[cap] !== null) {
        throw new InvalidFragoOptionError(
          cap,
          resolved[cap],
          "quotas apply per identifier and anonymous callers have none, so it could never apply: remove it, or set identifierMode to 'user' or an IdentifierStrategy (a proxy must bound anonymous traffic)",
        );
      }
    }
  }
  if (resolved.maxChunkSize > resolved.maxUploadSize) {
    throw new InvalidFragoOptionError('maxChunkSize', resolved.maxChunkSize, `must not exceed maxUploadSize (${resolved.maxUploadSize})`);
  }
  return Object.freeze(resolved);
}
