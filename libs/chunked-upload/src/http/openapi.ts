import { Inject, Injectable } from '@nestjs/common';
import { FRAGO_ROUTE_PREFIX, FRAGO_TUS_PATH } from '../chunked-upload.constants';
import { FRAGO_ERROR_STATUS } from './frago-exception.filter';
import {
  BYTE_RANGE_SCHEMA,
  CHUNK_RANGE_SCHEMA,
  CHUNK_UPLOADED_RESPONSE_SCHEMA,
  FINALIZE_UPLOAD_RESPONSE_SCHEMA,
  START_UPLOAD_RESPONSE_SCHEMA,
  UPLOAD_LIST_ENTRY_SCHEMA,
  UPLOAD_STATUS_RESPONSE_SCHEMA,
  errorResponseSchema,
} from '../protocol/wire.schemas';

/** An OpenAPI 3.1 document (the parts this module writes). @publicApi */
export interface FragoOpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
  tags: Array<{ name: string; description: string }>;
}

/** Where the operations are mounted. @publicApi */
export interface FragoOpenApiOptions {
  /** What comes before the routes, e.g. the app's global prefix `'/api'`. @default '' */
  basePath?: string;
  /** The module's `routePrefix`. @default 'upload' */
  routePrefix?: string;
  /** The module's `tusPath`; null or unset leaves tus out. */
  tusPath?: string | null;
  /** @default 'nestjs-frago uploads' */
  title?: string;
  /** Version of your API. @default '1' */
  version?: string;
}

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown): Record<string, unknown> => ({ 'application/json': { schema } });
const trim = (path: string): string => path.replace(/^\/+|\/+$/g, '');

/** Error answers of an operation: each listed status with its frago body, `default` for the rest. */
function errors(key: 'error' | 'message', statuses: Record<number, string>): Record<string, unknown> {
  const schema = ref(key === 'error' ? 'ChunkErrorResponse' : 'ErrorResponse');
  const answers: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(statuses)) answers[status] = { description, content: json(schema) };
  answers.default = { description: 'Any other error, in the same body.', content: json(schema) };
  return answers;
}

const RETRYABLE = {
  429: 'QUOTA_EXCEEDED: the caller holds too many uploads or bytes; or TWIN_WAIT_LIMIT / TWIN_WAIT_TIMEOUT on a chunk PUT whose identical twin is still being written (Retry-After).',
  503: 'DATABASE_UNAVAILABLE or STORAGE_UNAVAILABLE (Retry-After).',
  507: 'STORAGE_FULL (Retry-After).',
};
const OWNED = { 401: 'No authenticated caller (user mode, custom strategies).', 403: 'The identifier strategy refused the caller.' };

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
  description: "The upload's UUID; anything else is 404.",
};

/**
 * The OpenAPI 3.1 document of the module's operations (frago's routes, tus, health and metrics),
 * built from the schemas in `wire.schemas.ts`, which the compiler checks
 * against the wire types the controller answers with. Serve it from your app
 * (the example app: `/api/openapi.json`), or merge its `paths` and
 * `components` into your own document.
 * @publicApi
 */
export function fragoOpenApiDocument(options: FragoOpenApiOptions = {}): FragoOpenApiDocument {
  const base = trim(options.basePath ?? '');
  const collection = `/${[base, trim(options.routePrefix ?? 'upload')].filter(Boolean).join('/')}/`;
  const item = `${collection}{id}/`;
  const codes = Object.keys(FRAGO_ERROR_STATUS);
  const document: FragoOpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'nestjs-frago uploads',
      version: options.version ?? '1',
      description:
        "Resumable, parallel, chunked uploads (frago's wire protocol). Routes answer with and without a trailing slash. Error bodies are {status: false, code, error|message}: `error` on the chunk PUT, `message` elsewhere.",
    },
    tags: [{ name: 'frago', description: "frago's operations: start, chunk, finalize, status, list, abort." }],
    components: {
      schemas: {
        ByteRange: BYTE_RANGE_SCHEMA,
        ChunkRange: CHUNK_RANGE_SCHEMA,
        StartUploadResponse: START_UPLOAD_RESPONSE_SCHEMA,
        ChunkUploadedResponse: CHUNK_UPLOADED_RESPONSE_SCHEMA,
        FinalizeUploadResponse: FINALIZE_UPLOAD_RESPONSE_SCHEMA,
        UploadStatusResponse: UPLOAD_STATUS_RESPONSE_SCHEMA,
        UploadListEntry: UPLOAD_LIST_ENTRY_SCHEMA,
        ErrorResponse: errorResponseSchema('message', codes),
        ChunkErrorResponse: errorResponseSchema('error', codes),
        StartUploadRequest: {
          type: 'object',
          properties: {
            filename: { type: 'string', minLength: 1, maxLength: 255 },
            total_size: { type: ['integer', 'string'], description: 'A positive integer (a decimal string in form bodies).' },
          },
          required: ['filename', 'total_size'],
        },
        FinalizeUploadRequest: {
          type: 'object',
          properties: {
            checksum: { type: 'string', maxLength: 512, description: 'Hex digest of the whole file (required with doChecksum).' },
            checksum_algo: { type: 'string', description: 'Defaults to the checksumType option, e.g. md5.' },
          },
        },
      },
    },
    paths: {
      [collection]: {
        post: {
          operationId: 'startUpload',
          tags: ['frago'],
          summary: 'Start an upload',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('StartUploadRequest') },
              'application/x-www-form-urlencoded': { schema: ref('StartUploadRequest') },
              'multipart/form-data': { schema: ref('StartUploadRequest') },
            },
          },
          responses: {
            201: { description: 'Started.', content: json(ref('StartUploadResponse')) },
            ...errors('message', {
              400: 'INVALID_INPUT: filename or total_size missing or invalid.',
              413: 'UPLOAD_TOO_LARGE: above maxUploadSize.',
              ...OWNED,
              ...RETRYABLE,
            }),
          },
        },
        get: {
          operationId: 'listUploads',
          tags: ['frago'],
          summary: "The caller's uploads, newest first",
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
            { name: 'status', in: 'query', schema: { enum: ['in_progress', 'complete', 'expired'] } },
          ],
          responses: {
            200: { description: 'The list.', content: json({ type: 'array', items: ref('UploadListEntry') }) },
            ...errors('message', {
              400: 'INVALID_INPUT: a bad limit, offset or status.',
              403: 'LIST_FORBIDDEN in anonymous mode (or the strategy refused the caller).',
              401: OWNED[401],
              503: RETRYABLE[503],
            }),
          },
        },
      },
      [item]: {
        parameters: [idParameter],
        get: {
          operationId: 'uploadStatus',
          tags: ['frago'],
          summary: 'Status of an upload: what is stored and what is missing',
          responses: {
            200: { description: 'The upload (status "expired" once expired).', content: json(ref('UploadStatusResponse')) },
            ...errors('message', { 404: "UPLOAD_NOT_FOUND (or another caller's upload).", ...OWNED, 503: RETRYABLE[503] }),
          },
        },
        put: {
          operationId: 'putChunk',
          tags: ['frago'],
          summary: 'Store one chunk',
          parameters: [
            {
              name: 'Content-Range',
              in: 'header',
              required: true,
              schema: { type: 'string', pattern: '^bytes [0-9]+-[0-9]+/[0-9]+$' },
              description: 'bytes START-END/TOTAL, END inclusive.',
            },
            { name: 'Content-Digest', in: 'header', schema: { type: 'string' }, description: 'RFC 9530 sha-256 or sha-512 of the chunk bytes.' },
            { name: 'Content-MD5', in: 'header', schema: { type: 'string' }, description: 'Base64 MD5 of the chunk bytes.' },
          ],
          requestBody: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
              'multipart/form-data': {
                schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] },
              },
            },
          },
          responses: {
            200: { description: 'Stored (or a duplicate of a stored chunk: duplicate: true).', content: json(ref('ChunkUploadedResponse')) },
            ...errors('error', {
              400: 'INVALID_CONTENT_RANGE, CHUNK_SIZE_MISMATCH, NO_CHUNK, MALFORMED_MULTIPART, DIGEST_MISMATCH.',
              404: 'UPLOAD_NOT_FOUND.',
              409: 'CHUNK_OVERLAP, CHUNK_BUSY, UPLOAD_COMPLETE.',
              410: 'UPLOAD_EXPIRED.',
              413: 'CHUNK_TOO_LARGE, MULTIPART_LIMIT.',
              ...OWNED,
              503: RETRYABLE[503],
              507: RETRYABLE[507],
            }),
          },
        },
        post: {
          operationId: 'finalizeUpload',
          tags: ['frago'],
          summary: 'Verify and publish the file',
          requestBody: {
            content: {
              'application/json': { schema: ref('FinalizeUploadRequest') },
              'application/x-www-form-urlencoded': { schema: ref('FinalizeUploadRequest') },
              'multipart/form-data': { schema: ref('FinalizeUploadRequest') },
            },
          },
          responses: {
            201: { description: 'Completed (answered again for a completed upload).', content: json(ref('FinalizeUploadResponse')) },
            ...errors('message', {
              400: 'INCOMPLETE_UPLOAD (with missing), CHECKSUM_REQUIRED, UNSUPPORTED_ALGORITHM, CHECKSUM_MISMATCH.',
              404: 'UPLOAD_NOT_FOUND.',
              409: 'FINALIZE_IN_PROGRESS: retry.',
              410: 'UPLOAD_EXPIRED.',
              ...OWNED,
              503: RETRYABLE[503],
              507: RETRYABLE[507],
            }),
          },
        },
        delete: {
          operationId: 'abortUpload',
          tags: ['frago'],
          summary: 'Abort: delete the upload and its chunks',
          responses: {
            204: { description: 'Deleted.' },
            ...errors('message', { 404: 'UPLOAD_NOT_FOUND.', 409: 'FINALIZE_IN_PROGRESS.', ...OWNED, 503: RETRYABLE[503] }),
          },
        },
      },
    },
  };
  if (options.tusPath) addTus(document, `/${[base, trim(options.tusPath)].filter(Boolean).join('/')}`);
  return document;
}

/** tus 1.0.0: headers carry the protocol; error answers carry frago's body. */
function addTus(document: FragoOpenApiDocument, collection: string): void {
  const header = (description: string): Record<string, unknown> => ({ schema: { type: 'string' }, description });
  const tusResumable = { name: 'Tus-Resumable', in: 'header', required: true, schema: { const: '1.0.0' } };
  const failure = errors('message', {
    404: 'UPLOAD_NOT_FOUND.',
    409: 'OFFSET_MISMATCH.',
    412: 'TUS_VERSION_UNSUPPORTED.',
    415: 'UNSUPPORTED_MEDIA_TYPE.',
    460: 'CHUNK_CHECKSUM_MISMATCH.',
  });
  document.tags.push({
    name: 'tus',
    description:
      'tus 1.0.0 (core, creation, creation-with-upload, creation-defer-length, termination, checksum, expiration, concatenation) on the same ledger; see tus.io.',
  });
  document.paths[`${collection}/`] = {
    options: {
      operationId: 'tusOptions',
      tags: ['tus'],
      summary: 'Discovery',
      responses: { 204: { description: 'Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm.' } },
    },
    post: {
      operationId: 'tusCreate',
      tags: ['tus'],
      summary: 'Create an upload (Upload-Length or Upload-Defer-Length, Upload-Metadata, Upload-Concat)',
      parameters: [tusResumable],
      responses: {
        201: {
          description: 'Created.',
          headers: { Location: header('URL of the upload; its last segment is the upload UUID.'), 'Upload-Offset': header('Bytes stored.') },
        },
        ...failure,
      },
    },
  };
  document.paths[`${collection}/{id}`] = {
    parameters: [idParameter],
    head: {
      operationId: 'tusHead',
      tags: ['tus'],
      summary: 'Offset of an upload',
      parameters: [tusResumable],
      responses: { 200: { description: 'Upload-Offset, Upload-Length (Cache-Control: no-store).' }, 404: { description: 'UPLOAD_NOT_FOUND (no body).' } },
    },
    patch: {
      operationId: 'tusPatch',
      tags: ['tus'],
      summary: 'Append bytes at Upload-Offset',
      parameters: [tusResumable, { name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } }],
      requestBody: {
        required: true,
        content: { 'application/offset+octet-stream': { schema: { type: 'string', contentMediaType: 'application/offset+octet-stream' } } },
      },
      responses: { 204: { description: 'Stored; Upload-Offset is the new offset.', headers: { 'Upload-Offset': header('The new offset.') } }, ...failure },
    },
    delete: {
      operationId: 'tusTerminate',
      tags: ['tus'],
      summary: 'Termination',
      parameters: [tusResumable],
      responses: { 204: { description: 'Terminated.' }, ...failure },
    },
  };
}

/**
 * The document for this module's registration (its `routePrefix` and
 * `tusPath`): inject it in a controller of yours and serve
 * `openApi.document({ basePath: '/api' })`.
 * @publicApi
 */
@Injectable()
export class FragoOpenApi {
  constructor(
    @Inject(FRAGO_ROUTE_PREFIX) private readonly routePrefix: string,
    @Inject(FRAGO_TUS_PATH) private readonly tusPath: string | null,
  ) {}

  document(options: Omit<FragoOpenApiOptions, 'routePrefix' | 'tusPath'> = {}): FragoOpenApiDocument {
    return fragoOpenApiDocument({ ...options, routePrefix: this.routePrefix, tusPath: this.tusPath });
  }
}
