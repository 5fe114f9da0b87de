import type { FastifyRequest } from 'fastify';
import type { FindOptionsWhere } from 'typeorm';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';

/** What a strategy resolves a caller to: null for anonymous, else any value (a string, an entity…). */
export type UploadIdentifier = unknown;

/**
 * Resolves the caller's identifier from the request and says where the
 * upload entity stores it (frago's `identifier_field`). Subclass it and pass
 * the class as `identifierMode`; it is instantiated through Nest DI, so it
 * may inject services (for example the `DataSource`): give it
 * `@Injectable()` (the boot fails when a constructor with arguments lacks it).
 * Throw `ForbiddenException`/`UnauthorizedException` to refuse a caller.
 *
 * `TIdentifier` is what `resolve()` returns (a user id, a `Device`…),
 * `TUpload` the upload entity, so overridden hooks are typed without casts.
 * @publicApi
 */
export abstract class IdentifierStrategy<TIdentifier = UploadIdentifier, TUpload extends AbstractChunkUpload = AbstractChunkUpload> {
  /**
   * Entity property holding the identifier (a column or a relation). The
   * default hooks read and write it; the module checks at boot that the
   * upload entity has it, also when both hooks are overridden.
   * @default 'identifier'
   */
  readonly identifierField: string = 'identifier';

  /** Resolve the caller; `null` means anonymous (no ownership). */
  abstract resolve(request: FastifyRequest): Promise<TIdentifier | null> | TIdentifier | null;

  /** Whether listing uploads is allowed for this identifier. Anonymous callers may not list. */
  canList(identifier: TIdentifier | null): boolean {
    return identifier !== null && identifier !== undefined;
  }

  /** The `where` fragment that scopes queries to this caller: `{ [identifierField]: identifier }` unless overridden. */
  ownerWhere(identifier: TIdentifier | null): FindOptionsWhere<TUpload> {
    if (identifier === null || identifier === undefined) return {};
    return { [this.identifierField]: identifier } as FindOptionsWhere<TUpload>;
  }

  /** Stamps a new upload with its owner: sets `identifierField` unless overridden. */
  assign(upload: TUpload, identifier: TIdentifier | null): void {
    (upload as unknown as Record<string, unknown>)[this.identifierField] = identifier ?? null;
  }
}
