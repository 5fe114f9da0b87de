import { resolve } from 'node:path';

/** The example app's configuration, read once from the environment. */
export interface ExampleConfig {
  port: number;
  host: string;
  databaseUrl: string;
  /** Most database connections this instance opens (PostgreSQL, MySQL). */
  databasePoolSize: number;
  dataDir: string;
  identifierMode: 'anonymous' | 'user';
  demoTokens: Map<string, string>;
  expiration?: number;
  cleanupInterval?: number;
  maxUploadSize?: number;
  maxChunkSize?: number;
  doChecksum?: boolean;
  fsync?: boolean;
  checksumType?: string;
  chunkLeaseTimeout?: number;
  finalizeLeaseTimeout?: number;
  /** How long in-flight requests may take to finish after SIGTERM before their connections are cut (ms). */
  shutdownGraceMs: number;
  maxActiveUploadsPerIdentifier?: number;
  maxActiveBytesPerIdentifier?: number;
  maxWaitingTwins?: number;
  twinWaitTimeout?: number;
  minChunkBodyRate?: number;
  /** `FRAGO_METRICS`: serve Prometheus metrics at /api/metrics. */
  metrics: boolean;
  /** Route of the tus endpoint under /api (FRAGO_TUS_PATH); null turns it off. */
  tusPath: string | null;
  /** `FRAGO_STORAGE`: local disk under the data folder, or an S3 bucket (several hosts, no shared volume). */
  storage: 'disk' | 's3';
  /** The S3 settings when `storage` is `s3`. */
  s3?: S3Config;
}

/** `FRAGO_STORAGE=s3`: where the bucket is. Region and credentials come from the AWS SDK's own chain. */
export interface S3Config {
  bucket: string;
  prefix: string;
  /** `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`); unset for AWS S3 itself. */
  endpoint?: string;
  forcePathStyle: boolean;
}

/** A bad variable stops the boot with a message naming it. */
export class InvalidEnvironmentError extends Error {
  constructor(name: string, value: string, expectation: string) {
    super(`Invalid environment variable ${name}=${JSON.stringify(value)}: ${expectation}`);
    this.name = 'InvalidEnvironmentError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, min: number): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new InvalidEnvironmentError(name, value, `expected an integer ≥ ${min}`);
  }
  return Number(value);
}

function boolean(env: Env, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new InvalidEnvironmentError(name, env[name] ?? '', 'expected true or false');
}

function tokens(env: Env): Map<string, string> {
  const map = new Map<string, string>();
  const raw = env.FRAGO_DEMO_TOKENS?.trim();
  if (!raw) return map;
  for (const pair of raw.split(',')) {
    const [token, user, ...rest] = pair.trim().split(':');
    if (!token || !user || rest.length > 0) throw new InvalidEnvironmentError('FRAGO_DEMO_TOKENS', raw, 'expected token:user,token:user');
    map.set(token, user);
  }
  return map;
}

function s3Config(env: Env): S3Config {
  const bucket = env.FRAGO_S3_BUCKET?.trim();
  if (!bucket) throw new InvalidEnvironmentError('FRAGO_S3_BUCKET', env.FRAGO_S3_BUCKET ?? '', 'required when FRAGO_STORAGE=s3: the bucket name');
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  return { bucket, prefix: env.FRAGO_S3_PREFIX ?? 'frago/', endpoint, forcePathStyle: boolean(env, 'FRAGO_S3_FORCE_PATH_STYLE') ?? endpoint !== undefined };
}

/** Reads and checks the environment; every variable has a default that needs no set-up. */
export function readConfig(env: Env = process.env): ExampleConfig {
  const dataDir = resolve(env.FRAGO_DATA_DIR || './data');
  const mode = env.FRAGO_IDENTIFIER_MODE || 'anonymous';
  if (mode !== 'anonymous' && mode !== 'user') {
    throw new InvalidEnvironmentError('FRAGO_IDENTIFIER_MODE', mode, "expected 'anonymous' or 'user'");
  }
  const storage = env.FRAGO_STORAGE || 'disk';
  if (storage !== 'disk' && storage !== 's3') throw new InvalidEnvironmentError('FRAGO_STORAGE', storage, "expected 'disk' or 's3'");
  return {
    storage,
    s3: storage === 's3' ? s3Config(env) : undefined,
    port: integer(env, 'PORT', 0) ?? 3000,
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || 'sqlite:./data/frago.sqlite',
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 1) ?? 20,
    dataDir,
    identifierMode: mode,
    demoTokens: tokens(env),
    expiration: integer(env, 'FRAGO_EXPIRATION_MS', 1),
    cleanupInterval: integer(env, 'FRAGO_CLEANUP_INTERVAL_MS', 0),
    maxUploadSize: integer(env, 'FRAGO_MAX_UPLOAD_SIZE', 1),
    maxChunkSize: integer(env, 'FRAGO_MAX_CHUNK_SIZE', 1),
    doChecksum: boolean(env, 'FRAGO_DO_CHECKSUM'),
    fsync: boolean(env, 'FRAGO_FSYNC'),
    checksumType: env.FRAGO_CHECKSUM_TYPE || undefined,
    chunkLeaseTimeout: integer(env, 'FRAGO_CHUNK_LEASE_MS', 1),
    finalizeLeaseTimeout: integer(env, 'FRAGO_FINALIZE_LEASE_MS', 1),
    shutdownGraceMs: integer(env, 'FRAGO_SHUTDOWN_GRACE_MS', 0) ?? 10_000,
    maxActiveUploadsPerIdentifier: integer(env, 'FRAGO_MAX_ACTIVE_UPLOADS', 1),
    maxActiveBytesPerIdentifier: integer(env, 'FRAGO_MAX_ACTIVE_BYTES', 1),
    maxWaitingTwins: integer(env, 'FRAGO_MAX_WAITING_TWINS', 1),
    twinWaitTimeout: integer(env, 'FRAGO_TWIN_WAIT_MS', 1),
    minChunkBodyRate: integer(env, 'FRAGO_MIN_CHUNK_BODY_RATE', 0),
    tusPath: tusPath(env),
    metrics: boolean(env, 'FRAGO_METRICS') ?? true,
  };
}

/** FRAGO_TUS_PATH: unset → `files`, empty → off, else a route of letters, digits, `-`, `_` and `/`. */
function tusPath(env: Env): string | null {
  const value = env.FRAGO_TUS_PATH;
  if (value === undefined) return 'files';
  const path = value.trim().replace(/^\/+|\/+$/g, '');
  if (path === '') return null;
  if (!/^[A-Za-z0-9_\-/]+$/.test(path))
    throw new InvalidEnvironmentError('FRAGO_TUS_PATH', value, 'expected a route such as files (letters, digits, -, _ and /), or empty to turn tus off');
  return path;
}
