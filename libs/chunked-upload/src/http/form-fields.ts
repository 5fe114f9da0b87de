import type { FastifyRequest } from 'fastify';
import busboy from 'busboy';
import { InvalidInputError } from '../errors/frago.errors';

/**
 * The fields of a POST body, whichever way frago clients send it: JSON,
 * urlencoded (parsed by Fastify) or multipart form data (read here, small
 * fields only; file parts are skipped).
 */
export async function readFormFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  const contentType = request.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) return readMultipartFields(request);
  const body: unknown = request.body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidInputError('Body must be a JSON object or form data');
  return body as Record<string, unknown>;
}

function readMultipartFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { fields: 20, fieldSize: 8 * 1024, files: 0, parts: 32 } });
    } catch {
      reject(new InvalidInputError('Malformed multipart body'));
      return;
    }
    const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        parser.destroy();
        reject(new InvalidInputError(`Field "${name.slice(0, 40)}" is too long`));
        return;
      }
      fields[name] = value;
    });
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', () => reject(new InvalidInputError('Malformed multipart body')));
    parser.on('close', () => resolve({ ...fields }));
    request.raw.pipe(parser);
  });
}
