/**
 * Boots a host app as a user would (EventEmitterModule, TypeOrmModule.forRootAsync,
 * the upload module) and returns the boot error, or null when it booted; the app
 * and the DataSource are closed either way, so a failed boot leaves no connection
 * behind. The options-validation and setup-traps specs assert on that error.
 */
import type { DynamicModule, LoggerService } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { fragoMigrations } from 'nestjs-frago';
import type { TestDatabase } from '../../helpers/test-databases';

/** Keeps Nest's own error log of the failed boot out of the test output. */
const silent: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };

export interface HostBoot {
  uploadModule: DynamicModule;
  /** Migrations run before the module starts. @default fragoMigrations */
  migrations?: Array<new () => unknown>;
  /** Leave EventEmitterModule.forRoot() out. */
  withoutEvents?: boolean;
  /** @default Fastify */
  adapter?: () => AbstractHttpAdapter;
  /** An explicit entity list instead of autoLoadEntities (TypeOrmModule's retries off, as the README advises). */
  entities?: NonNullable<DataSourceOptions['entities']>;
  /** Keep the schema for the next boot instead of dropping it (when every boot runs the same migrations). */
  keepSchema?: boolean;
}

export async function bootHostApp(db: TestDatabase, boot: HostBoot): Promise<Error | null> {
  let dataSource: DataSource | undefined;
  let initializing: Promise<DataSource> | undefined;
  const entityList = boot.entities ? { autoLoadEntities: false, entities: boot.entities, retryAttempts: 0 } : { autoLoadEntities: true };
  const dbOptions = {
    ...db.options,
    ...entityList,
    migrationsRun: true,
    migrations: boot.migrations ?? fragoMigrations,
    logging: false,
  } as DataSourceOptions & { autoLoadEntities: boolean };
  let app: { init(): Promise<unknown>; close(): Promise<void> } | undefined;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ...(boot.withoutEvents ? [] : [EventEmitterModule.forRoot()]),
        TypeOrmModule.forRootAsync({
          useFactory: () => dbOptions,
          dataSourceFactory: async (options) => {
            dataSource = new DataSource(options as DataSourceOptions);
            initializing = dataSource.initialize();
            return initializing;
          },
        }),
        boot.uploadModule,
      ],
    })
      .setLogger(silent)
      .compile();
    app = moduleRef.createNestApplication((boot.adapter ?? (() => new FastifyAdapter()))(), { logger: false });
    await app.init();
    return null;
  } catch (error) {
    return error as Error;
  } finally {
    await app?.close().catch(() => undefined);
    // A bad option can fail the boot while the connection is still being made.
    await initializing?.catch(() => undefined);
    if (dataSource?.isInitialized) {
      if (!boot.keepSchema) await dataSource.dropDatabase().catch(() => undefined);
      await dataSource.destroy();
    }
  }
}
