/** Injection token of the resolved, frozen {@link ResolvedChunkedUploadOptions}. @publicApi */
export const FRAGO_OPTIONS = Symbol('FRAGO:OPTIONS');
/** Injection token of the upload entity's repository (internal). */
export const FRAGO_UPLOAD_REPOSITORY = Symbol('FRAGO:UPLOAD_REPOSITORY');
/** Injection token of the chunk entity's repository (internal). */
export const FRAGO_CHUNK_REPOSITORY = Symbol('FRAGO:CHUNK_REPOSITORY');
export const FRAGO_NAME_REPOSITORY = Symbol('FRAGO:NAME_REPOSITORY');
/** Injection token of the controller path (internal). */
export const FRAGO_ROUTE_PREFIX = Symbol('FRAGO:ROUTE_PREFIX');
/** Injection token of the tus route, or null when tus is off (internal). */
export const FRAGO_TUS_PATH = Symbol('FRAGO:TUS_PATH');
/** Request property where the guard stores the caller's identifier (internal). */
export const FRAGO_IDENTIFIER_KEY = Symbol('FRAGO:IDENTIFIER');

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULT_CHUNK_UPLOAD_PATH = 'chunked_uploads/';
export const DEFAULT_ASSEMBLED_PATH = 'assembled_uploads/';
export const DEFAULT_CHECKSUM_TYPE = 'md5';
export const DEFAULT_EXPIRATION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_ASSEMBLE_READ_SIZE = 8 * MiB;
export const DEFAULT_ROUTE_PREFIX = 'upload';
export const DEFAULT_MAX_UPLOAD_SIZE = 50 * GiB;
export const DEFAULT_MAX_CHUNK_SIZE = 256 * MiB;
export const DEFAULT_CLEANUP_INTERVAL_MS = 60 * 60 * 1000;
export const DEFAULT_CHUNK_LEASE_MS = 60 * 1000;
export const DEFAULT_FINALIZE_WAIT_MS = 10 * 1000;
export const DEFAULT_REFUSED_BODY_DRAIN_LIMIT = 64 * MiB;
export const DEFAULT_REFUSED_BODY_DRAIN_MS = 30 * 1000;
export const DEFAULT_FINALIZE_LEASE_MS = 10 * 1000;
export const DEFAULT_MAX_WAITING_TWINS = 100;
export const DEFAULT_MIN_CHUNK_BODY_RATE = 1024;
export const DEFAULT_CHUNK_BODY_RATE_WINDOW_MS = 30 * 1000;
export const DEFAULT_REFUSED_BODY_DRAIN_SOCKETS = 64;
export const DEFAULT_TWIN_WAIT_MS = 90 * 1000;
export const DEFAULT_TWIN_POLL_MS = 1000;

/** Token of the options as the host gave them (the module builder's options token), before {@link FRAGO_OPTIONS} resolves them. */
export const FRAGO_RAW_OPTIONS = Symbol('FRAGO:RAW_OPTIONS');
