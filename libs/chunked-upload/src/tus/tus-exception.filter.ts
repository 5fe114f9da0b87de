import { type ArgumentsHost, Catch } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FragoExceptionFilter } from '../http/frago-exception.filter';
import { BodyTooSlowError, TusVersionError } from '../errors/frago.errors';
import { TUS_VERSION, tusCommonHeaders } from './tus-response';

/**
 * Errors of the tus routes: the status from the one table in
 * `FragoExceptionFilter` (412, 415, 409, 460, 413, 410, 404, …), frago's
 * `{status: false, message, code}` body, and the tus headers every response
 * carries. A refused PATCH's unread body is drained and the connection closed.
 */
@Catch()
export class TusExceptionFilter extends FragoExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!reply.sent && !reply.raw.headersSent) {
      tusCommonHeaders(request, reply);
      // tus §Tus-Resumable: on 412 the Server "MUST include the Tus-Version header into the response".
      if (exception instanceof TusVersionError) reply.header('Tus-Version', TUS_VERSION);
      if (!request.raw.complete && !request.raw.destroyed) {
        reply.header('connection', 'close');
        // A too slow sender is not waited for: the connection closes after the answer, unread.
        if (!(exception instanceof BodyTooSlowError)) request.raw.resume();
      }
    }
    super.catch(exception, host);
  }
}
