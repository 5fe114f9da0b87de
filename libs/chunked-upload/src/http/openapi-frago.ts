/** The OpenAPI paths of frago's operations: start, list, status, chunk, finalize, abort. */
import { errors, formContent, GONE, idParameter, json, OWNED, ref, RETRYABLE, WRITE_RETRYABLE } from './openapi-parts';

/** The operations on `collection` (start, list) and on `item`, one upload (status, chunk, finalize, abort). */
export function fragoPaths(collection: string, item: string): Record<string, Record<string, unknown>> {
  return {
    [collection]: {
      post: {
        operationId: 'startUpload',
        tags: ['frago'],
        summary: 'Start an upload',
        requestBody: { required: true, content: formContent('StartUploadRequest') },
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
            409: 'CHUNK_OVERLAP, CHUNK_BUSY, UPLOAD_COMPLETE.',
            413: 'CHUNK_TOO_LARGE, MULTIPART_LIMIT.',
            ...GONE,
            ...OWNED,
            ...WRITE_RETRYABLE,
          }),
        },
      },
      post: {
        operationId: 'finalizeUpload',
        tags: ['frago'],
        summary: 'Verify and publish the file',
        requestBody: { content: formContent('FinalizeUploadRequest') },
        responses: {
          201: { description: 'Completed (answered again for a completed upload).', content: json(ref('FinalizeUploadResponse')) },
          ...errors('message', {
            400: 'INCOMPLETE_UPLOAD (with missing), CHECKSUM_REQUIRED, UNSUPPORTED_ALGORITHM, CHECKSUM_MISMATCH.',
            409: 'FINALIZE_IN_PROGRESS: retry.',
            ...GONE,
            ...OWNED,
            ...WRITE_RETRYABLE,
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
  };
}
