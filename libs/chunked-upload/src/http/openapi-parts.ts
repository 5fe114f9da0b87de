/** The pieces every operation of the OpenAPI document is built from: references, bodies and error answers. */

export const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown): Record<string, unknown> => ({ 'application/json': { schema } });
export const trim = (path: string): string => path.replace(/^\/+|\/+$/g, '');

/** A small form body (start, finalize): JSON, urlencoded or multipart fields, all of the named schema. */
export function formContent(name: string): Record<string, unknown> {
  return {
    'application/json': { schema: ref(name) },
    'application/x-www-form-urlencoded': { schema: ref(name) },
    'multipart/form-data': { schema: ref(name) },
  };
}

/** Error answers of an operation: each listed status with its frago body, `default` for the rest. */
export function errors(key: 'error' | 'message', statuses: Record<number, string>): Record<string, unknown> {
  const schema = ref(key === 'error' ? 'ChunkErrorResponse' : 'ErrorResponse');
  const answers: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(statuses)) answers[status] = { description, content: json(schema) };
  answers.default = { description: 'Any other error, in the same body.', content: json(schema) };
  return answers;
}

export const RETRYABLE = {
  429: 'QUOTA_EXCEEDED: the caller holds too many uploads or bytes; or TWIN_WAIT_LIMIT / TWIN_WAIT_TIMEOUT on a chunk PUT whose identical twin is still being written (Retry-After).',
  503: 'DATABASE_UNAVAILABLE or STORAGE_UNAVAILABLE (Retry-After).',
  507: 'STORAGE_FULL (Retry-After).',
};
/** The retry-later answers of an operation that writes bytes (a chunk, the published file). */
export const WRITE_RETRYABLE = { 503: RETRYABLE[503], 507: RETRYABLE[507] };
/** The answers of an operation on one upload that is gone or never was. */
export const GONE = { 404: 'UPLOAD_NOT_FOUND.', 410: 'UPLOAD_EXPIRED.' };
export const OWNED = { 401: 'No authenticated caller (user mode, custom strategies).', 403: 'The identifier strategy refused the caller.' };

export const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
  description: "The upload's UUID; anything else is 404.",
};
