/**
 * JSON Schemas of frago's wire bodies (the OpenAPI document's components). The type checks at the end of this file make the build fail when
 * a schema and its type in `wire.types.ts` (the types the controller answers
 * with) disagree, and the OpenAPI test validates real answers against these
 * schemas, so neither can drift from the other or from the server.
 */
import type {
  ByteRange,
  ChunkRange,
  ChunkUploadedResponse,
  ErrorResponse,
  FinalizeUploadResponse,
  StartUploadResponse,
  UploadListEntry,
  UploadStatusResponse,
} from './wire.types';

const integer = { type: 'integer', minimum: 0 } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const uploadId = { type: 'string', format: 'uuid', description: "The upload's UUID (lower case)." } as const;

export const BYTE_RANGE_SCHEMA = {
  type: 'object',
  description: 'An inclusive byte range [start, end].',
  properties: { start: integer, end: integer },
  required: ['start', 'end'],
  additionalProperties: false,
} as const;

export const CHUNK_RANGE_SCHEMA = {
  type: 'object',
  description: 'A stored chunk.',
  properties: { start: integer, end: integer, size: { type: 'integer', minimum: 1 } },
  required: ['start', 'end', 'size'],
  additionalProperties: false,
} as const;

export const START_UPLOAD_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    status: { const: true },
    upload_id: uploadId,
    message: { type: 'string', description: '"Upload started for <filename>".' },
  },
  required: ['status', 'upload_id', 'message'],
  additionalProperties: false,
} as const;

export const CHUNK_UPLOADED_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    status: { const: true },
    message: { type: 'string', description: '"Chunk uploaded", or "Duplicate chunk already uploaded; skipped".' },
    start: integer,
    end: integer,
    size: { type: 'integer', minimum: 1 },
    duplicate: { const: true, description: 'Present when the same range was already stored (nothing was written again).' },
  },
  required: ['status', 'message', 'start', 'end', 'size'],
  additionalProperties: false,
} as const;

export const FINALIZE_UPLOAD_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    status: { const: true },
    upload_id: uploadId,
    message: { type: 'string', description: '"Upload completed for <filename>".' },
  },
  required: ['status', 'upload_id', 'message'],
  additionalProperties: false,
} as const;

const UPLOAD_FIELDS = {
  upload_id: uploadId,
  filename: { type: 'string', description: 'The name as the client gave it (never used as a path).' },
  total_size: { type: 'integer', minimum: 1 },
  status: { enum: ['in_progress', 'complete', 'expired'] },
  created_at: dateTime,
  completed_at: { type: ['string', 'null'], format: 'date-time' },
  expires_at: dateTime,
  received_bytes: integer,
} as const;
const UPLOAD_REQUIRED = ['upload_id', 'filename', 'total_size', 'status', 'created_at', 'completed_at', 'expires_at', 'received_bytes'] as const;

export const UPLOAD_LIST_ENTRY_SCHEMA = {
  type: 'object',
  properties: UPLOAD_FIELDS,
  required: UPLOAD_REQUIRED,
  additionalProperties: false,
} as const;

export const UPLOAD_STATUS_RESPONSE_SCHEMA = {
  type: 'object',
  description: 'Everything a client needs to resume.',
  properties: {
    ...UPLOAD_FIELDS,
    chunks: { type: 'array', items: CHUNK_RANGE_SCHEMA },
    missing: { type: 'array', items: BYTE_RANGE_SCHEMA, description: 'The byte ranges not stored yet.' },
  },
  required: [...UPLOAD_REQUIRED, 'chunks', 'missing'],
  additionalProperties: false,
} as const;

/** Codes of the error bodies: the module's codes, INTERNAL, HTTP_<status> (Nest's HttpExceptions) and Fastify's FST_* codes. */
export function errorCodeSchema(codes: readonly string[]): Record<string, unknown> {
  return {
    type: 'string',
    description: 'Stable machine-readable code.',
    anyOf: [{ enum: [...codes, 'INTERNAL'] }, { pattern: '^HTTP_[1-5][0-9]{2}$' }, { pattern: '^FST_[A-Z0-9_]+$' }],
  };
}

/** An error body with its text under `key`: `error` on the chunk PUT, `message` elsewhere (as frago answers). */
export function errorResponseSchema(key: 'error' | 'message', codes: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      status: { const: false },
      code: errorCodeSchema(codes),
      [key]: { type: 'string' },
      missing: { type: 'array', items: BYTE_RANGE_SCHEMA, description: 'With INCOMPLETE_UPLOAD: the byte ranges not stored yet.' },
    },
    required: ['status', 'code', key],
    additionalProperties: false,
  };
}

// ---- The schemas agree with the wire types (checked by the compiler, no runtime code). ----

/** The TypeScript type a JSON Schema (of the small subset above) describes. */
type FromSchema<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: 'object'; properties: infer P; required: readonly (infer R)[] }
      ? Flatten<{ -readonly [K in keyof P & R]: FromSchema<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: FromSchema<P[K]> }>
      : S extends { type: 'array'; items: infer I }
        ? FromSchema<I>[]
        : S extends { type: readonly (infer T)[] }
          ? Primitive<T>
          : S extends { type: infer T }
            ? Primitive<T>
            : never;
type Primitive<T> = T extends 'string' ? string : T extends 'integer' | 'number' ? number : T extends 'boolean' ? boolean : T extends 'null' ? null : never;
type Flatten<T> = { [K in keyof T]: T[K] };
/** true when A and B are assignable both ways (same required and optional keys, same value types). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type WireSchemaChecks = [
  Assert<Same<FromSchema<typeof BYTE_RANGE_SCHEMA>, ByteRange>>,
  Assert<Same<FromSchema<typeof CHUNK_RANGE_SCHEMA>, ChunkRange>>,
  Assert<Same<FromSchema<typeof START_UPLOAD_RESPONSE_SCHEMA>, StartUploadResponse>>,
  Assert<Same<FromSchema<typeof CHUNK_UPLOADED_RESPONSE_SCHEMA>, ChunkUploadedResponse>>,
  Assert<Same<FromSchema<typeof FINALIZE_UPLOAD_RESPONSE_SCHEMA>, FinalizeUploadResponse>>,
  Assert<Same<FromSchema<typeof UPLOAD_LIST_ENTRY_SCHEMA>, UploadListEntry>>,
  Assert<Same<FromSchema<typeof UPLOAD_STATUS_RESPONSE_SCHEMA>, UploadStatusResponse>>,
  // Each error body (key `error` or `message`) is an ErrorResponse.
  Assert<{ status: false; code: string; error: string; missing?: ByteRange[] } extends ErrorResponse ? true : false>,
];
