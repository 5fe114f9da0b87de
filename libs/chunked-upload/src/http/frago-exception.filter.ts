import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { errorText } from '../domain/error-text';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError, FragoError, type FragoErrorCode, IncompleteUploadError, StorageFullError } from '../errors/frago.errors';
import { databaseFailure } from './database-failure';
import type { ErrorResponse } from '../protocol/wire.types';
import { fastifyErrorText } from './body-parsers';
import { isClientDisconnect } from './client-disconnect';
import { noteRejection } from './request-outcome';

/** The one table from domain error code to HTTP status (frago and tus routes). */
export const FRAGO_ERROR_STATUS: Record<FragoErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_CONTENT_RANGE: 400,
  CHUNK_SIZE_MISMATCH: 400,
  NO_CHUNK: 400,
  MALFORMED_MULTIPART: 400,
  MULTIPART_LIMIT: 413,
  DIGEST_MISMATCH: 400,
  INCOMPLETE_UPLOAD: 400,
  CHECKSUM_REQUIRED: 400,
  UNSUPPORTED_ALGORITHM: 400,
  CHECKSUM_MISMATCH: 400,
  LIST_FORBIDDEN: 403,
  UPLOAD_NOT_FOUND: 404,
  UPLOAD_COMPLETE: 409,
  CHUNK_OVERLAP: 409,
  CHUNK_BUSY: 409,
  FINALIZE_IN_PROGRESS: 409,
  UPLOAD_EXPIRED: 410,
  UPLOAD_TOO_LARGE: 413,
  CHUNK_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 429,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_FULL: 507,
  TUS_VERSION_UNSUPPORTED: 412,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OFFSET_MISMATCH: 409,
  UPLOAD_LENGTH_EXCEEDED: 413,
  CHUNK_CHECKSUM_MISMATCH: 460,
  FINAL_UPLOAD_IMMUTABLE: 403,
  DATABASE_UNAVAILABLE: 503,
  // Not 5xx: the server is fine, the caller sent too many identical retries at once; a frago
  // client retries a 429 after Retry-After, and a twin is never answered 409 or 5xx.
  TWIN_WAIT_LIMIT: 429,
  TWIN_WAIT_TIMEOUT: 429,
  BODY_TOO_SLOW: 408,
};

/** Statuses a client should retry after a pause. */
export const RETRY_AFTER_SECONDS: Partial<Record<number, number>> = { 503: 1, 507: 30, 429: 5 };

/**
 * Turns every error of the upload routes into frago's body
 * `{status: false, error|message, code}`: `error` on the chunk PUT,
 * `message` elsewhere, as frago clients read them. Unknown errors are a 500 with a fixed
 * message; their stack goes to the log only.
 */
@Catch()
export class FragoExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('nestjs-frago');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (clientWentAway(exception, request, reply)) {
      // A cut connection is the client's doing, not a server fault: nothing was recorded, and nobody reads an answer.
      this.logger.debug(`${request.method} ${request.url}: the client disconnected mid-request`);
      return;
    }
    const { status, code, text, extra } = this.describe(exception, request);
    const key = request.method === 'PUT' ? 'error' : 'message';
    const body: ErrorResponse = { status: false, code, [key]: text, ...extra };
    noteRejection(request, code);
    // One log line per refused or failed request, at a level that fits. A client's mistake (4xx) is
    // not an error and has no stack; a dependency's (503 storage, 507) is a warning; unexpected
    // failures were logged with their stack by describe().
    if (status < 500) this.logger.debug(`${requestLine(request)} refused: ${status} ${code}: ${text}`);
    else if (exception instanceof FragoError) this.logger.warn(`${requestLine(request)} failed: ${status} ${code}: ${text}`);
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
    const retryAfter = RETRY_AFTER_SECONDS[status];
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    reply.status(status).send(body);
  }

  private describe(exception: unknown, request: FastifyRequest): { status: number; code: string; text: string; extra: Partial<ErrorResponse> } {
    if (exception instanceof FragoError) {
      const extra = exception instanceof IncompleteUploadError ? { missing: exception.missing } : {};
      return { status: FRAGO_ERROR_STATUS[exception.code], code: exception.wireCode, text: exception.message, extra };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) this.logger.error(exception.message, exception.stack);
      return { status, code: `HTTP_${status}`, text: httpMessage(exception), extra: {} };
    }
    const fastifyStatus = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      const fastifyCode = (exception as { code?: unknown }).code;
      const code = typeof fastifyCode === 'string' && /^FST_[A-Z0-9_]+$/.test(fastifyCode) ? fastifyCode : `HTTP_${fastifyStatus}`;
      return { status: fastifyStatus, code, text: fastifyErrorText(fastifyStatus, code, request), extra: {} };
    }
    const database = databaseFailure(exception);
    if (database) {
      this.logger.warn(`Database unavailable: ${errorText(exception)}`);
      const failure = database === 'full' ? new StorageFullError() : new DatabaseUnavailableError();
      return { status: FRAGO_ERROR_STATUS[failure.code], code: failure.wireCode, text: failure.message, extra: {} };
    }
    this.logger.error(`Unexpected error: ${errorText(exception)}`, exception instanceof Error ? exception.stack : undefined);
    return { status: 500, code: 'INTERNAL', text: 'Internal server error', extra: {} };
  }
}

/** `METHOD /path` of a request for a log line (bounded: a client chooses the URL). */
export function requestLine(request: FastifyRequest): string {
  const url = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
  return `${request.method} ${url}`;
}

/** True when the request failed because its connection closed: an abort error with the socket gone. */
function clientWentAway(exception: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
  return (request.raw.destroyed || reply.raw.destroyed) && isClientDisconnect(exception);
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}
