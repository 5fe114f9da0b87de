import type { FastifyRequest } from 'fastify';
import { FragoError, InvalidInputError } from '../errors/frago.errors';
import { assertStreamingMultipart } from './multipart-setup';
import { multipartFailure, type PartsOptions } from './chunk-body';

/** Limits of a POST form (start, finalize): small text fields; file parts are read and thrown away. */
const FORM_OPTIONS: PartsOptions = {
  limits: { fields: 20, fieldSize: 8 * 1024, files: 4, fileSize: 64 * 1024, parts: 32, headerPairs: 64 },
  throwFileSizeLimit: false,
};

/**
 * The fields of a POST body, whichever way frago clients send it: JSON,
 * urlencoded (parsed by Fastify) or multipart form data (streamed by
 * @fastify/multipart, small fields only; file parts are skipped).
 */
export async function readFormFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  const contentType = request.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) return readMultipartFields(request);
  const body: unknown = request.body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidInputError('Body must be a JSON object or form data');
  return body as Record<string, unknown>;
}

async function readMultipartFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  assertStreamingMultipart(request);
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const signal = new AbortController().signal;
  try {
    for await (const part of request.parts(FORM_OPTIONS)) {
      if (part.type === 'file') {
        part.file.resume();
        continue;
      }
      if (part.valueTruncated || part.fieldnameTruncated) throw new InvalidInputError(`Field "${part.fieldname.slice(0, 40)}" is too long`);
      fields[part.fieldname] = part.value;
    }
  } catch (error) {
    if (error instanceof FragoError) throw error;
    throw multipartFailure(error, request.raw.destroyed && !request.raw.complete ? AbortSignal.abort() : signal);
  }
  return { ...fields };
}
