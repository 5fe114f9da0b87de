import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ChunkedUploadModule } from 'nestjs-frago';
import type { ExampleConfig } from './config/env';
import { createStorage } from './config/storage';
import { typeOrmOptions } from './config/database';
import { runMigrationsLocked } from './config/migration-lock';
import { DemoTokenGuard } from './auth/demo-token.guard';
import { DemoController } from './demo/demo.controller';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** The example host app: TypeORM from DATABASE_URL, frago's operations under /api/upload/, the demo page at /. */
@Module({})
export class AppModule {
  static register(config: ExampleConfig): DynamicModule {
    // The app's registry: the process metrics (memory, event-loop lag, …) beside frago's.
    const registry = config.metrics ? new Registry() : null;
    if (registry) collectDefaultMetrics({ register: registry });
    return {
      module: AppModule,
      imports: [
        EventEmitterModule.forRoot(),
        TypeOrmModule.forRootAsync({
          useFactory: () => typeOrmOptions(config.databaseUrl, config.databasePoolSize),
          // Instances that start together take turns to migrate (a race would fail one of them).
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options as DataSourceOptions).initialize();
            await runMigrationsLocked(dataSource);
            return dataSource;
          },
        }),
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
            maxWaitingTwins: config.maxWaitingTwins,
            twinWaitTimeout: config.twinWaitTimeout,
            minChunkBodyRate: config.minChunkBodyRate,
            metrics: registry ? { registry } : false,
          }),
        }),
      ],
      controllers: [DemoController, HealthController, OpenApiController, ...(config.metrics ? [MetricsController] : [])],
      providers: [{ provide: APP_GUARD, useFactory: () => new DemoTokenGuard(config.demoTokens) }],
    };
  }
}
