import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FRAGO_OPTIONS, FRAGO_ROUTE_PREFIX } from '../chunked-upload.constants';
import { FragoSetupError } from '../errors/frago-setup.error';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';

import { useStreamingMultipart } from './multipart-setup';
import { RefusedBodyDrains } from './refused-body-drain';
import { answerOddIdsAsNotFound } from './odd-ids';
import { noteRejection } from './request-outcome';

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
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
  ) {}

  onModuleInit(): void {
    // Nest types the adapter as always present; an application context has none.
    const adapter = this.adapterHost.httpAdapter as AbstractHttpAdapter | undefined;
    // No HTTP adapter: an application context (a worker, a CLI) that uses the services without routes.
    if (!adapter) return;
    const instance: unknown = adapter.getInstance();
    if (!isFastify(instance)) {
      throw new FragoSetupError(
        `the upload routes need the Fastify adapter (the app runs on ${adapter.constructor.name}, whose requests they cannot stream): ` +
          'install @nestjs/platform-fastify and create the app with NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } }))',
      );
    }
    // Raw chunk bodies (frago PUT) and tus PATCH bodies reach the handlers as the untouched socket stream.
    for (const type of ['application/octet-stream', 'application/offset+octet-stream']) {
      if (!instance.hasContentTypeParser(type)) instance.addContentTypeParser(type, (_request, _payload, done) => done(null, undefined));
    }
    useStreamingMultipart(instance);
    this.installEdgeHooks(instance);
    const config = instance.initialConfig as { ignoreTrailingSlash?: boolean; routerOptions?: { ignoreTrailingSlash?: boolean } };
    if (!config.ignoreTrailingSlash && !config.routerOptions?.ignoreTrailingSlash) {
      this.logger.warn(
        'Routes with a trailing slash (/upload/:id/, used by frago clients) will answer 404: create the adapter with new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } })',
      );
    }
  }

  /**
   * On the upload routes: every answer says `X-Content-Type-Options: nosniff`;
   * an answer sent while the body is still arriving drains it (bounded) before
   * the connection closes; errors Fastify raises before the controller runs
   * (malformed JSON, a body over the limit, an unsupported type) are reshaped
   * into frago's body, keeping Fastify's `FST_*` code.
   */
  private installEdgeHooks(instance: FastifyInstance): void {
    const prefix = this.routePrefix.replace(/^\/+|\/+$/g, '');
    const ours = (url: string | undefined): boolean => !!url && (url.endsWith(`/${prefix}`) || url.endsWith(`/${prefix}/:id`));
    const drains = new RefusedBodyDrains({
      maxBytes: this.options.refusedBodyDrainLimit,
      timeoutMs: this.options.refusedBodyDrainTimeout,
      maxSockets: this.options.refusedBodyDrainSockets,
    });
    const isUploadIdPath = (method: string, path: string): boolean => {
      const match = /^(.*)\/([^/]+)\/?$/.exec(path);
      return !!match && match[1].endsWith(`/${prefix}`) && instance.hasRoute({ method, url: `${match[1]}/:id` });
    };
    if (!answerOddIdsAsNotFound(instance, isUploadIdPath, drains)) {
      this.logger.warn(
        "Ids with a malformed percent-encoding or over maxParamLength will get Fastify's 400/414 instead of 404 (this Fastify hides its options)",
      );
    }
    // onError runs before the error handler shapes the body (Nest's drops Fastify's code): keep the code.
    instance.addHook('onError', (request: FastifyRequest, _reply: FastifyReply, error: { code?: unknown }, done: () => void) => {
      if (typeof error.code === 'string' && ours(request.routeOptions.url)) fastifyCodes.set(request, error.code);
      done();
    });
    instance.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
      if (!ours(request.routeOptions.url)) {
        done(null, payload);
        return;
      }
      reply.header('x-content-type-options', 'nosniff');
      if (!request.raw.complete) {
        // Answered before the body was read: read the rest, then close (never reset a sending client).
        reply.header('connection', 'close');
        drains.drainThenClose(request.raw);
      }
      done(null, reply.statusCode >= 400 ? fragoShaped(request, reply, payload) : payload);
    });
  }
}

const refusalLogger = new Logger('nestjs-frago');

/** The code of the Fastify error a request failed with before the controller ran. */
const fastifyCodes = new WeakMap<FastifyRequest, string>();

/** A Fastify error body (`{statusCode, code, error, message}`) as frago's, keeping the `FST_*` code; frago's own bodies pass. */
function fragoShaped(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { status?: unknown }).status === false) return payload;
  const fastifyCode = (parsed as { code?: unknown }).code ?? fastifyCodes.get(request);
  const code = typeof fastifyCode === 'string' && /^FST_[A-Z0-9_]+$/.test(fastifyCode) ? fastifyCode : `HTTP_${reply.statusCode}`;
  const key = request.method === 'PUT' ? 'error' : 'message';
  noteRejection(request, code);
  // A refused request is one log line, and a client's mistake is not an error.
  if (reply.statusCode < 500) refusalLogger.debug(`${request.method} ${request.url.slice(0, 200)} refused: ${reply.statusCode} ${code}`);
  reply.header('content-type', 'application/json; charset=utf-8');
  return JSON.stringify({ status: false, code, [key]: fastifyErrorText(reply.statusCode, code, request) });
}

/** What a reshaped Fastify error says: fixed texts, never the request's own bytes. */
export function fastifyErrorText(status: number, code: string, request: FastifyRequest): string {
  if (status >= 500) return 'Internal server error';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    const limit = request.routeOptions.bodyLimit;
    return typeof limit === 'number' ? `Request body is larger than the limit of ${limit} bytes` : 'Request body is too large';
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) return 'Unsupported Content-Type';
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return 'Content-Length does not match the body';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Body is empty but Content-Type is application/json';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(code)) return 'Body is not valid JSON';
  return 'Malformed request';
}

function isFastify(value: unknown): value is FastifyInstance {
  return typeof value === 'object' && value !== null && typeof (value as FastifyInstance).addContentTypeParser === 'function';
}
