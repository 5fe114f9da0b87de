import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import { FragoSetupError } from '../errors/frago-setup.error';

const BUFFERING_MESSAGE =
  '@fastify/multipart is registered with attachFieldsToBody, which reads every file of a request into memory before ' +
  'the route runs: chunk bodies must stream. Register it without attachFieldsToBody (frago reads the parts itself with ' +
  'request.parts()), or register it with attachFieldsToBody inside an encapsulated plugin (fastify.register(async (child) => ' +
  '{ await child.register(multipart, { attachFieldsToBody: true }); /* your routes */ })) so it does not apply to the upload routes.';

/**
 * Makes @fastify/multipart parse multipart bodies (frago clients send chunks
 * as a `file` part): registers it
 * unless the host already did (before frago, or earlier in the same boot:
 * plugins load in order, so the check runs when this one loads), and refuses
 * a host registration that buffers (`attachFieldsToBody`) or a multipart
 * content-type parser that is not @fastify/multipart. Call before `ready()`.
 */
export function useStreamingMultipart(instance: FastifyInstance): void {
  const setUp = async (root: FastifyInstance): Promise<void> => {
    if (root.hasRequestDecorator('isMultipart')) {
      if (buffersMultipart(root)) throw new FragoSetupError(BUFFERING_MESSAGE);
      return;
    }
    if (root.hasContentTypeParser('multipart/form-data')) {
      throw new FragoSetupError(
        'a multipart/form-data content-type parser other than @fastify/multipart is registered; frago parses chunk bodies ' +
          'with @fastify/multipart: remove that parser (frago registers @fastify/multipart itself), or register @fastify/multipart instead',
      );
    }
    await root.register(fastifyMultipart);
  };
  // Like fastify-plugin: runs on the root context, so the parser and decorators apply to every route.
  Object.assign(setUp, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'nestjs-frago-multipart' });
  instance.register(setUp);
}

/**
 * True when a root-level @fastify/multipart was registered with
 * `attachFieldsToBody`: it then adds a preValidation hook that reads every
 * part (and buffers files) before any route runs. Fastify has no public API
 * to list hooks, so this reads its hook table and recognises the plugin's hook.
 */
function buffersMultipart(root: FastifyInstance): boolean {
  const hooksKey = Object.getOwnPropertySymbols(root).find((symbol) => symbol.description === 'fastify.hooks');
  const hooks = hooksKey ? (root as unknown as Record<symbol, { preValidation?: unknown[] }>)[hooksKey] : undefined;
  return (hooks?.preValidation ?? []).some(
    (hook) => typeof hook === 'function' && /isMultipart\(\)[\s\S]*\.parts\(/.test(Function.prototype.toString.call(hook)),
  );
}

/**
 * Fails (500, logged) when a multipart request reaches a route with its body
 * already read: a buffering set-up the boot check could not see (e.g.
 * attachFieldsToBody in a scope around the upload routes).
 */
export function assertStreamingMultipart(request: FastifyRequest): void {
  if (typeof request.parts !== 'function') {
    throw new FragoSetupError('@fastify/multipart is not registered on this Fastify instance (nestjs-frago registers it when its module starts)');
  }
  if (request.body !== undefined && request.body !== null) throw new FragoSetupError(BUFFERING_MESSAGE);
}
