import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { UploadNotFoundError } from '../errors/frago.errors';
import type { RefusedBodyDrains } from './refused-body-drain';

type FrameworkErrors = NonNullable<FastifyServerOptions['frameworkErrors']>;

/**
 * `:id` is a UUID; anything else is an upload that does not exist (404 in
 * frago's body). Fastify's router refuses two kinds of ids before any route
 * or hook runs: a malformed percent-encoding (`%`, `%zz`: 400
 * FST_ERR_BAD_URL) and one longer than `maxParamLength` (414
 * FST_ERR_MAX_PARAM_LENGTH), both with a body that echoes the URL. Its only
 * way to answer those differently is the `frameworkErrors` server option,
 * which this sets on the upload routes' behalf (keeping the host's own, if
 * any, for every other URL). Returns false when this Fastify keeps its
 * options where this cannot reach them.
 */
export function answerOddIdsAsNotFound(
  instance: FastifyInstance,
  isUploadIdPath: (method: string, path: string) => boolean,
  drains: RefusedBodyDrains,
): boolean {
  const key = Object.getOwnPropertySymbols(instance).find((symbol) => symbol.description === 'fastify.options');
  const options = key ? (instance as unknown as Record<symbol, { frameworkErrors?: FrameworkErrors } | undefined>)[key] : undefined;
  if (!options || typeof options !== 'object') return false;
  const hosts = options.frameworkErrors;
  const frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const routerRefusal = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH';
    const path = (request.raw.url ?? '').split('?')[0];
    if (routerRefusal && isUploadIdPath(request.raw.method ?? 'GET', path)) notFound(request, reply, drains);
    else if (hosts) hosts(error, request, reply);
    else fastifyDefault(error, reply);
  };
  options.frameworkErrors = frameworkErrors;
  return true;
}

function notFound(request: FastifyRequest, reply: FastifyReply, drains: RefusedBodyDrains): void {
  const failure = new UploadNotFoundError();
  const key = request.raw.method === 'PUT' ? 'error' : 'message';
  const body = JSON.stringify({ status: false, code: failure.wireCode, [key]: failure.message });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
  };
  if (!request.raw.complete) {
    headers.connection = 'close';
    drains.drainThenClose(request.raw);
  }
  reply.raw.writeHead(404, headers);
  reply.raw.end(body);
}

/** What Fastify answers without `frameworkErrors` (kept for every URL that is not an upload id). */
function fastifyDefault(error: FastifyError, reply: FastifyReply): void {
  const statusCode = error.statusCode ?? 500;
  const body =
    statusCode >= 500
      ? JSON.stringify({ error: 'Internal Server Error', message: 'Unexpected error from async constraint', statusCode })
      : JSON.stringify({ error: 'Bad Request', code: error.code, message: error.message, statusCode });
  reply.raw.writeHead(statusCode, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  reply.raw.end(body);
}
