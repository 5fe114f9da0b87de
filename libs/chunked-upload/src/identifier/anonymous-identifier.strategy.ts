import { Injectable } from '@nestjs/common';
import { IdentifierStrategy } from './identifier-strategy';

/**
 * `identifierMode: 'anonymous'`: nobody owns an upload; whoever holds its
 * UUID may use it, and listing is refused (403).
 * @publicApi
 */
@Injectable()
export class AnonymousIdentifierStrategy extends IdentifierStrategy {
  resolve(): null {
    return null;
  }

  override ownerWhere(): Record<string, never> {
    return {};
  }
}
