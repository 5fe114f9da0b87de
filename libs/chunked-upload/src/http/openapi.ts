import { Inject, Injectable } from '@nestjs/common';
import { FRAGO_ROUTE_PREFIX, FRAGO_TUS_PATH } from '../chunked-upload.constants';
import { FRAGO_ERROR_STATUS } from './frago-exception.filter';
import { fragoPaths } from './openapi-frago';
import { trim } from './openapi-parts';
import { addTus } from './openapi-tus';
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
    paths: fragoPaths(collection, item),
  };
  if (options.tusPath) addTus(document, `/${[base, trim(options.tusPath)].filter(Boolean).join('/')}`);
  return document;
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
