import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { InvalidInputError, NoChunkError } from '../errors/frago.errors';
import type { ChunkSource } from '../services/chunk.service';

const MULTIPART = /^multipart\/form-data/i;
const RAW = /^application\/octet-stream/i;

/**
 * The chunk bytes of a PUT, as one stream: the multipart part named `file`
 * (frago clients) or a raw `application/octet-stream` body. Nothing is read
 * until `open()`; the stream is the socket, never a buffer.
 */
export function chunkSourceFromRequest(request: FastifyRequest, expectedSize: number): ChunkSource {
  const raw = request.raw;
  const contentType = request.headers['content-type'] ?? '';
  const controller = new AbortController();
  raw.once('close', () => {
    if (!raw.complete) controller.abort(new Error('client disconnected'));
  });
  const discard = (): void => {
    if (!raw.complete && !raw.destroyed) raw.resume();
  };
  if (RAW.test(contentType)) {
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) !== expectedSize) {
      throw new InvalidInputError(`Body has ${Number(length)} bytes but Content-Range announces ${expectedSize}`);
    }
    return { signal: controller.signal, discard, open: async () => raw };
  }
  if (MULTIPART.test(contentType)) {
    return { signal: controller.signal, discard, open: () => multipartFile(request, expectedSize) };
  }
  throw new NoChunkError();
}

function multipartFile(request: FastifyRequest, expectedSize: number): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        limits: { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 32, fileSize: expectedSize + 1 },
      });
    } catch {
      reject(new InvalidInputError('Malformed multipart body'));
      return;
    }
    let found = false;
    parser.on('file', (name, stream) => {
      if (name !== 'file' || found) {
        stream.resume();
        return;
      }
      found = true;
      resolve(stream);
    });
    parser.on('error', (error) => {
      if (!found) reject(new InvalidInputError('Malformed multipart body'));
      else request.raw.destroy(error as Error);
    });
    parser.on('close', () => {
      if (!found) reject(new NoChunkError());
    });
    request.raw.once('error', (error) => parser.destroy(error));
    request.raw.pipe(parser);
  });
}
