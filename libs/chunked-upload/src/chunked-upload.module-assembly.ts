import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { getMetadataArgsStorage } from 'typeorm';
import { FRAGO_OPTIONS, FRAGO_ROUTE_PREFIX, FRAGO_TUS_PATH } from './chunked-upload.constants';
import type { ChunkedUploadModuleExtras } from './options/chunked-upload-options.interface';
import { resolveModuleExtras } from './options/module-extras';
import { identifierStrategyProvider, optionsProvider, repositoryProviders, storageProvider } from './chunked-upload.providers';
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
import { TwinWaits } from './services/twin-waits';
import { PendingReleases } from './services/pending-releases';
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
import { FragoOpenApi } from './http/openapi';

/** An entity class as TypeORM's metadata storage records relation targets. */
type EntityTarget = Exclude<ReturnType<typeof getMetadataArgsStorage>['relations'][number]['target'], string>;

/** Classes that relations of `entity` (and of its parent classes) point to. */
function relatedEntities(entity: EntityTarget): EntityTarget[] {
  const lineage: EntityTarget[] = [];
  for (let current: unknown = entity; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    lineage.push(current);
  }
  const found = new Set<EntityTarget>();
  for (const relation of getMetadataArgsStorage().relations) {
    if (typeof relation.target !== 'function' || !lineage.includes(relation.target)) continue;
    const type: unknown = typeof relation.type === 'function' ? (relation.type as () => unknown)() : relation.type;
    if (typeof type === 'function' && type !== entity) found.add(type);
  }
  return [...found];
}

/**
 * The module builder's extras transform: adds what the definition-time settings decide (entities,
 * routes, whether tus is on, global or not) to the module the builder made for `forRoot()` or
 * `forRootAsync()`.
 */
export function assembleChunkedUploadModule(base: DynamicModule, given: ChunkedUploadModuleExtras): DynamicModule {
  const { uploadEntity, chunkEntity, routePrefix, tusPath, isGlobal } = resolveModuleExtras(given);
  // Entities the upload entity relates to (a host's Device) are registered too,
  // so that autoLoadEntities loads them even when no module of the host does.
  const related = relatedEntities(uploadEntity).filter((entity) => entity !== chunkEntity && entity !== FragoNameClaim);
  return {
    ...base,
    global: isGlobal,
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
      TwinWaits,
      PendingReleases,
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
