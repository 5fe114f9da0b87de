import type { FastifyRequest } from 'fastify';

/**
 * The operation a request is, as a metrics label: a fixed set, never an id or
 * a filename, so the number of label values stays bounded.
 * @publicApi
 */
export type FragoOperation =
  'start' | 'list' | 'status' | 'chunk' | 'finalize' | 'abort' | 'tus_options' | 'tus_create' | 'tus_head' | 'tus_patch' | 'tus_delete';

const FRAGO_COLLECTION: Partial<Record<string, FragoOperation>> = { POST: 'start', GET: 'list' };
const FRAGO_ITEM: Partial<Record<string, FragoOperation>> = { PUT: 'chunk', POST: 'finalize', GET: 'status', HEAD: 'status', DELETE: 'abort' };
const TUS_COLLECTION: Partial<Record<string, FragoOperation>> = { POST: 'tus_create', OPTIONS: 'tus_options' };
const TUS_ITEM: Partial<Record<string, FragoOperation>> = { HEAD: 'tus_head', PATCH: 'tus_patch', DELETE: 'tus_delete', OPTIONS: 'tus_options' };

/**
 * Tells which of the module's operations a routed request is, from its route
 * pattern (`…/<routePrefix>`, `…/<routePrefix>/:id`, the same under `tusPath`)
 * and its method; `undefined` for the host's own routes.
 */
export function operationResolver(routePrefix: string, tusPath: string | null): (request: FastifyRequest) => FragoOperation | undefined {
  const frago = `/${routePrefix.replace(/^\/+|\/+$/g, '')}`;
  const tus = tusPath ? `/${tusPath.replace(/^\/+|\/+$/g, '')}` : null;
  return (request) => {
    const url = (request.routeOptions as Partial<FastifyRequest['routeOptions']> | undefined)?.url;
    if (!url) return undefined;
    const method = request.method;
    if (url.endsWith(frago)) return FRAGO_COLLECTION[method];
    if (url.endsWith(`${frago}/:id`)) return FRAGO_ITEM[method];
    if (tus === null) return undefined;
    if (url.endsWith(tus)) return TUS_COLLECTION[method];
    if (url.endsWith(`${tus}/:id`)) {
      // tus §X-HTTP-Method-Override: a POST stands for the method it names.
      const override = method === 'POST' ? request.headers['x-http-method-override'] : undefined;
      const named = typeof override === 'string' ? override.trim().toUpperCase() : method;
      return TUS_ITEM[named];
    }
    return undefined;
  };
}
