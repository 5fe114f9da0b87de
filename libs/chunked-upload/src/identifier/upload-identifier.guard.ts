import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { FRAGO_IDENTIFIER_KEY } from '../chunked-upload.constants';
import { IdentifierStrategy } from './identifier-strategy';

/** Resolves the caller's identifier once per request and keeps it on the request (internal). */
@Injectable()
export class UploadIdentifierGuard implements CanActivate {
  constructor(private readonly strategy: IdentifierStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { [FRAGO_IDENTIFIER_KEY]?: unknown }>();
    request[FRAGO_IDENTIFIER_KEY] = (await this.strategy.resolve(request)) ?? null;
    return true;
  }
}
