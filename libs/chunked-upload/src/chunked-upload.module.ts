import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CHUNKED_UPLOAD_ASYNC_OPTIONS_TYPE,
  CHUNKED_UPLOAD_OPTIONS_TYPE,
  ConfigurableChunkedUploadModule,
} from './chunked-upload.module-definition';
import { DEFAULT_ROUTE_PREFIX, FRAGO_OPTIONS, FRAGO_ROUTE_PREFIX } from './chunked-upload.constants';
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
import { IncrementalHasher } from './services/incremental-hash';

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
  return {
    ...base,
    global: extras.isGlobal ?? false,
    imports: [...(base.imports ?? []), TypeOrmModule.forFeature([uploadEntity, chunkEntity, FragoNameClaim])],
    controllers: [createUploadController(routePrefix)],
    providers: [
      ...(base.providers ?? []),
      optionsProvider,
      { provide: FRAGO_ROUTE_PREFIX, useValue: routePrefix },
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
      IncrementalHasher,
    ],
    exports: [FRAGO_OPTIONS, ChunkStorage, IdentifierStrategy, UploadService, ExpiryService],
  };
}
