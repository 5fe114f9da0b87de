import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FRAGO_ROUTE_PREFIX } from '../chunked-upload.constants';
import { FragoSetupError } from '../errors/frago-setup.error';

import { useStreamingMultipart } from './multipart-setup';

/**
 * Lets chunk bodies reach the controller as the untouched socket stream:
 * registers a pass-through Fastify content-type parser for raw bodies (unless
 * the host registered its own) and @fastify/multipart for multipart bodies
 * (unless the host registered it; a buffering set-up fails the boot). Also warns when the host's Fastify does not
 * ignore trailing slashes, which frago clients rely on (`/upload/:id/`).
 * Errors Fastify raises before the controller runs (a malformed JSON body)
 * are reshaped into frago's `{status: false, …}` body on the upload routes.
 */
@Injectable()
export class FragoBodyParsers implements OnModuleInit {
  private readonly logger = new Logger('nestjs-frago');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(FRAGO_ROUTE_PREFIX) private readonly routePrefix: string,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // No HTTP adapter: an application context (a worker, a CLI) that uses the services without routes.
    if (!adapter) return;
    const instance: unknown = adapter.getInstance?.();
    if (!isFastify(instance)) {
      throw new FragoSetupError(
        `the upload routes need the Fastify adapter (the app runs on ${adapter.constructor?.name ?? 'another adapter'}, whose requests they cannot stream): ` +
          'install @nestjs/platform-fastify and create the app with NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } }))',
      );
    }
    if (!instance.hasContentTypeParser('application/octet-stream')) {
      instance.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null, undefined));
    }
    useStreamingMultipart(instance);
    this.reshapeEarlyErrors(instance);
    const config = instance.initialConfig as { ignoreTrailingSlash?: boolean; routerOptions?: { ignoreTrailingSlash?: boolean } };
    if (!config.ignoreTrailingSlash && !config.routerOptions?.ignoreTrailingSlash) {
      this.logger.warn(
        'Routes with a trailing slash (/upload/:id/, used by frago clients) will answer 404: create the adapter with new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } })',
      );
    }
  }

  private reshapeEarlyErrors(instance: FastifyInstance): void {
    const prefix = this.routePrefix.replace(/^\/+|\/+$/g, '');
    const ours = (url: string | undefined): boolean => !!url && (url.endsWith(`/${prefix}`) || url.endsWith(`/${prefix}/:id`));
    instance.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
      if (reply.statusCode < 400 || typeof payload !== 'string' || !ours(request.routeOptions?.url)) return done(null, payload);
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        return done(null, payload);
      }
      if (typeof parsed !== 'object' || parsed === null || (parsed as { status?: unknown }).status === false) return done(null, payload);
      const key = request.method === 'PUT' ? 'error' : 'message';
      const text = reply.statusCode >= 500 ? 'Internal server error' : 'Malformed request';
      reply.header('content-type', 'application/json; charset=utf-8');
      done(null, JSON.stringify({ status: false, code: `HTTP_${reply.statusCode}`, [key]: text }));
    });
  }
}

function isFastify(value: unknown): value is FastifyInstance {
  return typeof value === 'object' && value !== null && typeof (value as FastifyInstance).addContentTypeParser === 'function';
}
