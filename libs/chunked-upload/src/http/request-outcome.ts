import type { FastifyRequest } from 'fastify';

/**
 * The error code a request was refused or failed with (the `code` of frago's
 * error body), noted where the body is shaped, so the metrics can count
 * rejections by code without parsing bodies.
 */
const rejectionCodes = new WeakMap<FastifyRequest, string>();

/** Notes the code of the error body `request` is answered with. */
export function noteRejection(request: FastifyRequest, code: string): void {
  rejectionCodes.set(request, code);
}

/** The code noted for `request`, if it was refused. */
export function rejectionCodeOf(request: FastifyRequest): string | undefined {
  return rejectionCodes.get(request);
}
