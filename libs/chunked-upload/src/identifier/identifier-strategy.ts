import type { FastifyRequest } from 'fastify';
import type { FindOptionsWhere } from 'typeorm';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';

/** What a strategy resolves a caller to: null for anonymous, else any value (a string, an entity…). */
export type UploadIdentifier = unknown;

/**
 * Resolves the caller's identifier from the request and says where the
 * upload entity stores it (frago's `identifier_field`). Subclass it and pass
 * the class as `identifierMode`; it is instantiated through Nest DI, so it
 * may inject services (for example the `DataSource`). Throw
 * `ForbiddenException`/`UnauthorizedException` to refuse a caller.
 * @publicApi
 */
export abstract class IdentifierStrategy {
  /** Entity property holding the identifier (a column or a relation). @default 'identifier' */
  readonly identifierField: string = 'identifier';

  /** Resolve the caller; `null` means anonymous (no ownership). */
  abstract resolve(request: FastifyRequest): Promise<UploadIdentifier | null> | UploadIdentifier | null;

  /** Whether listing uploads is allowed for this identifier. Anonymous callers may not list. */
  canList(identifier: UploadIdentifier | null): boolean {
    return identifier !== null && identifier !== undefined;
  }

  /** The `where` fragment that scopes queries to this caller. */
  ownerWhere(identifier: UploadIdentifier | null): FindOptionsWhere<AbstractChunkUpload> {
    if (identifier === null || identifier === undefined) return {};
    return { [this.identifierField]: identifier } as FindOptionsWhere<AbstractChunkUpload>;
  }

  /** Stamps a new upload with its owner. */
  assign(upload: AbstractChunkUpload, identifier: UploadIdentifier | null): void {
    (upload as unknown as Record<string, unknown>)[this.identifierField] = identifier ?? null;
  }
}
