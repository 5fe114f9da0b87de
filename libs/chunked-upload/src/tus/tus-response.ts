import type { FastifyReply, FastifyRequest } from 'fastify';
import { TUS_RESPONSE_HEADERS, TUS_VERSION } from './tus-headers';

export { TUS_VERSION };

/**
 * Headers of every tus response: `Tus-Resumable` (tus §Tus-Resumable: "MUST
 * be included in every request and response except for OPTIONS requests")
 * and CORS, so browsers may read the tus headers. A host that already set an
 * allowed origin (e.g. with @fastify/cors) keeps its own.
 */
export function tusCommonHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('Tus-Resumable', TUS_VERSION);
  if (!reply.hasHeader('access-control-allow-origin')) {
    const origin = request.headers.origin;
    reply.header('Access-Control-Allow-Origin', origin ?? '*');
    if (origin) reply.header('Vary', 'Origin');
  }
  reply.header('Access-Control-Expose-Headers', TUS_RESPONSE_HEADERS.join(', '));
}
