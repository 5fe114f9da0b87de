import { Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IdentifierStrategy } from './identifier-strategy';

/**
 * `identifierMode: 'user'`: the owner is `request.user.id` (set by the host's
 * authentication guard); a request without a user answers 401.
 * @publicApi
 */
@Injectable()
export class UserIdentifierStrategy extends IdentifierStrategy {
  resolve(request: FastifyRequest): string {
    const user = (request as FastifyRequest & { user?: { id?: unknown } | null }).user;
    const id = user?.id;
    if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
      throw new UnauthorizedException('Authentication required');
    }
    return String(id);
  }
}
