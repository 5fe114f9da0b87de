import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { FRAGO_IDENTIFIER_KEY } from '../chunked-upload.constants';

/** Hands the identifier resolved by `UploadIdentifierGuard` to a controller method (internal). */
export const UploadIdentifier = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<{ [FRAGO_IDENTIFIER_KEY]?: unknown }>();
  return request[FRAGO_IDENTIFIER_KEY] ?? null;
});
