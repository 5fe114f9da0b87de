import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Demo authentication for `user` mode: accepts `Authorization: Bearer TOKEN`
 * for the tokens in FRAGO_DEMO_TOKENS and sets `request.user = { id }`.
 * A request without a token passes through with no user (the upload module
 * then answers 401); a wrong token is 401 here. Use your real auth instead.
 */
@Injectable()
export class DemoTokenGuard implements CanActivate {
  constructor(private readonly tokens: Map<string, string>) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: { id: string } }>();
    const header = request.headers.authorization;
    if (!header) return true;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const user = match ? this.tokens.get(match[1]) : undefined;
    if (!user) throw new UnauthorizedException('Invalid bearer token');
    request.user = { id: user };
    return true;
  }
}
