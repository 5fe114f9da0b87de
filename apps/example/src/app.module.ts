import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { ChunkedUploadModule } from 'nestjs-frago';
import type { ExampleConfig } from './config/env';
import { createStorage } from './config/storage';
import { typeOrmOptions } from './config/database';
import { DemoTokenGuard } from './auth/demo-token.guard';
import { DemoController } from './demo/demo.controller';
import { HealthController } from './health/health.controller';

/** The example host app: TypeORM from DATABASE_URL, frago's operations under /api/upload/, the demo page at /. */
@Module({})
export class AppModule {
  static register(config: ExampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EventEmitterModule.forRoot(),
        TypeOrmModule.forRoot(typeOrmOptions(config.databaseUrl, config.databasePoolSize)),
        ChunkedUploadModule.forRootAsync({
          tusPath: config.tusPath ?? undefined,
          useFactory: async () => ({
            storage: await createStorage(config),
            identifierMode: config.identifierMode,
            chunkUploadPath: join(config.dataDir, 'chunked_uploads'),
            assembledPath: join(config.dataDir, 'assembled_uploads'),
            expiration: config.expiration,
            cleanupInterval: config.cleanupInterval,
            maxUploadSize: config.maxUploadSize,
            maxChunkSize: config.maxChunkSize,
            doChecksum: config.doChecksum,
            fsync: config.fsync,
            checksumType: config.checksumType,
            chunkLeaseTimeout: config.chunkLeaseTimeout,
            finalizeLeaseTimeout: config.finalizeLeaseTimeout,
            maxActiveUploadsPerIdentifier: config.maxActiveUploadsPerIdentifier,
            maxActiveBytesPerIdentifier: config.maxActiveBytesPerIdentifier,
          }),
        }),
      ],
      controllers: [DemoController, HealthController],
      providers: [{ provide: APP_GUARD, useFactory: () => new DemoTokenGuard(config.demoTokens) }],
    };
  }
}
