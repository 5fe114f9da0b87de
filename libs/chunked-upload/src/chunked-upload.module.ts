import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { getMetadataArgsStorage } from 'typeorm';
import {
  CHUNKED_UPLOAD_ASYNC_OPTIONS_TYPE,
  CHUNKED_UPLOAD_OPTIONS_TYPE,
  ConfigurableChunkedUploadModule,
} from './chunked-upload.module-definition';
import { DEFAULT_ROUTE_PREFIX, FRAGO_OPTIONS, FRAGO_ROUTE_PREFIX, FRAGO_TUS_PATH } from './chunked-upload.constants';
import type { ChunkedUploadModuleExtras } from './options/chunked-upload-options.interface';
import { identifierStrategyProvider, optionsProvider, repositoryProviders, storageProvider } from './chunked-upload.providers';
import { ChunkUpload } from './entities/chunk-upload.entity';
import { ChunkedUploadChunk } from './entities/chunked-upload-chunk.entity';
import { FragoNameClaim } from './entities/frago-name-claim.entity';
import { createUploadController } from './http/create-upload-controller';
import { FragoBodyParsers } from './http/body-parsers';
import { UploadIdentifierGuard } from './identifier/upload-identifier.guard';
import { IdentifierStrategy } from './identifier/identifier-strategy';
import { ChunkStorage } from './storage/chunk-storage';
import { FragoEventPublisher } from './events/frago-event-publisher';
import { UploadStore } from './services/upload-store';
import { UploadService } from './services/upload.service';
import { ChunkService } from './services/chunk.service';
import { FinalizeService } from './services/finalize.service';
import { ExpiryService } from './services/expiry.service';
import { UploadRemoval } from './services/upload-removal';
import { IncrementalHasher } from './services/incremental-hash';
import { FragoTusUpload } from './tus/tus-upload.entity';
import { createTusController } from './tus/create-tus-controller';
import { tusProviders } from './tus/tus.providers';
import { FragoSetupChecks } from './setup/setup-checks';
import { FragoHealth } from './setup/frago-health';
import { FragoMetrics } from './metrics/frago-metrics';
import { FragoOpenApi } from './protocol/openapi';

/** Classes that relations of `entity` (and of its parent classes) point to. */
function relatedEntities(entity: Function): Function[] {
  const lineage: Function[] = [];
  for (let current: unknown = entity; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    lineage.push(current as Function);
  }
  const found = new Set<Function>();
  for (const relation of getMetadataArgsStorage().relations) {
    if (typeof relation.target !== 'function' || !lineage.includes(relation.target)) continue;
    const type: unknown = typeof relation.type === 'function' ? (relation.type as () => unknown)() : relation.type;
    if (typeof type === 'function' && type !== entity) found.add(type as Function);
  }
  return [...found];
}

/**
 * Resumable, parallel, chunked uploads (frago's protocol) for a Nest app on
 * Fastify and TypeORM. Needs `EventEmitterModule.forRoot()` and a
 * `TypeOrmModule.forRoot()` in the host (see README).
 * @publicApi
 */
@Module({})
export class ChunkedUploadModule extends ConfigurableChunkedUploadModule {
  static override forRoot(options: typeof CHUNKED_UPLOAD_OPTIONS_TYPE = {}): DynamicModule {
    return assemble(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof CHUNKED_UPLOAD_ASYNC_OPTIONS_TYPE): DynamicModule {
    return assemble(super.forRootAsync(options), options);
  }
}

/** Adds the pieces that depend on definition-time extras to the builder's module. */
function assemble(base: DynamicModule, extras: ChunkedUploadModuleExtras): DynamicModule {
  const uploadEntity = extras.uploadEntity ?? ChunkUpload;
  const chunkEntity = extras.chunkEntity ?? ChunkedUploadChunk;
  const routePrefix = extras.routePrefix ?? DEFAULT_ROUTE_PREFIX;
  const tusPath = extras.tusPath?.trim() ? extras.tusPath.trim() : null;
  // Entities the upload entity relates to (a host's Device) are registered too,
  // so that autoLoadEntities loads them even when no module of the host does.
  const related = relatedEntities(uploadEntity).filter((entity) => entity !== chunkEntity && entity !== FragoNameClaim);
  return {
    ...base,
    global: extras.isGlobal ?? false,
    imports: [...(base.imports ?? []), TypeOrmModule.forFeature([uploadEntity, chunkEntity, FragoNameClaim, ...related, ...(tusPath ? [FragoTusUpload] : [])])],
    controllers: tusPath ? [createUploadController(routePrefix), createTusController(tusPath)] : [createUploadController(routePrefix)],
    providers: [
      ...(base.providers ?? []),
      ...(tusPath ? tusProviders() : []),
      optionsProvider,
      { provide: FRAGO_ROUTE_PREFIX, useValue: routePrefix },
      { provide: FRAGO_TUS_PATH, useValue: tusPath },
      storageProvider,
      identifierStrategyProvider,
      ...repositoryProviders(uploadEntity, chunkEntity),
      FragoBodyParsers,
      UploadIdentifierGuard,
      FragoEventPublisher,
      UploadStore,
      UploadService,
      ChunkService,
      FinalizeService,
      ExpiryService,
      UploadRemoval,
      IncrementalHasher,
      FragoSetupChecks,
      FragoHealth,
      FragoMetrics,
      FragoOpenApi,
    ],
    exports: [FRAGO_OPTIONS, ChunkStorage, IdentifierStrategy, UploadService, ExpiryService, FragoHealth, FragoMetrics, FragoOpenApi],
  };
}
