/** The OpenAPI paths of the tus 1.0.0 endpoint. */
import type { FragoOpenApiDocument } from './openapi';
import { errors, idParameter } from './openapi-parts';

/** tus 1.0.0: headers carry the protocol; error answers carry frago's body. */
export function addTus(document: FragoOpenApiDocument, collection: string): void {
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
