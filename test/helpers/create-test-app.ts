import 'reflect-metadata';
import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  Injectable,
  type LoggerService,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { ChunkedUploadModule, type ChunkedUploadModuleExtras, type ChunkedUploadOptions, fragoMigrations } from 'nestjs-frago';
import { after, before } from 'node:test';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './test-databases';
import { RecordingLogger, mark, recordedSince, type RecordedError } from './unhandled-errors';

/** A running test app: the module in a real Fastify server on 127.0.0.1. */
export interface TestApp {
  app: NestFastifyApplication;
  /** Base URL of the operations, e.g. `http://127.0.0.1:PORT/api/upload`. */
  uploadUrl: string;
  /** Root URL, e.g. `http://127.0.0.1:PORT`. */
  baseUrl: string;
  /** Temp folder holding `chunks/` and `assembled/` (unless folders were passed in). */
  dataDir: string;
  chunkDir: string;
  assembledDir: string;
  /** Error-level log entries, unhandled rejections and uncaught exceptions since the app was created. */
  loggedErrors(): RecordedError[];
  /**
   * Closes the app and removes its temp folder; then fails when an error
   * nothing handled was recorded while it ran (a logged stack, an
   * `Unexpected error`, an unhandled rejection or uncaught exception) that
   * {@link TestAppOptions.expectedErrors} does not name.
   */
  close(): Promise<void>;
}

/** Options of {@link createTestApp}. */
export interface TestAppOptions {
  db: TestDatabase;
  /** Module options (paths default to temp folders). */
  options?: ChunkedUploadOptions;
  extras?: ChunkedUploadModuleExtras;
  /** Extra entities for the DataSource (host entities of a test). */
  entities?: Type<unknown>[];
  /** Create the schema with synchronize (custom entities) instead of the built-in migrations. */
  synchronize?: boolean;
  /** Migrations run at boot instead of `fragoMigrations` (e.g. a custom upload entity's). */
  migrations?: Array<new () => unknown>;
  imports?: ModuleMetadata['imports'];
  providers?: Provider[];
  /**
   * The ChunkedUploadModule registration itself (e.g. a `forRootAsync()`),
   * used instead of the default `forRoot()`; `options`/`extras` are then ignored.
   * Build its folders from {@link TestAppOptions.dataDir} to find the files.
   */
  uploadModule?: DynamicModule;
  /** Share data folders with another instance. */
  dataDir?: string;
  /** Global prefix. @default 'api' */
  prefix?: string;
  /** Fastify ignoreTrailingSlash. @default true */
  ignoreTrailingSlash?: boolean;
  /** Host set-up run before `listen()` (e.g. `app.register(plugin)`), as a host's `main.ts` would. */
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
  /** The app's logger (e.g. one that records every level); keep RecordingLogger's error recording by extending it. @default a RecordingLogger */
  logger?: LoggerService;
  /** Errors the test provokes on purpose (an injected failure): matching entries do not fail `close()`. @default [] */
  expectedErrors?: RegExp[];
}

/**
 * Sets `request.user = { id }` from an `x-user` header, as a host's auth guard
 * would; `x-user-uri` carries a percent-encoded id (trailing spaces, any Unicode).
 */
@Injectable()
export class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: { id: string } }>();
    const encoded = request.headers['x-user-uri'];
    const user = encoded === undefined ? request.headers['x-user'] : decodeURIComponent(encoded);
    if (user) request.user = { id: user };
    return true;
  }
}

/** Boots the module in a real Fastify app listening on a free port. Always `close()` it. */
export async function createTestApp(config: TestAppOptions): Promise<TestApp> {
  const since = mark();
  const dataDir = config.dataDir ?? mkdtempSync(join(tmpdir(), 'frago-data-'));
  const chunkDir = join(dataDir, 'chunks');
  const assembledDir = join(dataDir, 'assembled');
  const dbOptions = {
    ...config.db.options,
    entities: config.entities ?? [],
    autoLoadEntities: true,
    synchronize: config.synchronize ?? false,
    migrationsRun: !config.synchronize,
    migrations: config.synchronize ? [] : (config.migrations ?? fragoMigrations),
    logging: false,
  } as DataSourceOptions & { autoLoadEntities: boolean };
  const moduleRef = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot(),
      TypeOrmModule.forRoot(dbOptions),
      config.uploadModule ??
        ChunkedUploadModule.forRoot({
          chunkUploadPath: chunkDir,
          assembledPath: assembledDir,
          cleanupInterval: 0,
          ...config.options,
          ...config.extras,
        }),
      ...(config.imports ?? []),
    ],
    providers: [{ provide: APP_GUARD, useClass: HeaderUserGuard }, ...(config.providers ?? [])],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: config.ignoreTrailingSlash ?? true } }),
    { logger: config.logger ?? new RecordingLogger() },
  );
  app.setGlobalPrefix(config.prefix ?? 'api');
  try {
    await config.configure?.(app);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close().catch(() => undefined);
    if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const prefix = config.prefix ?? 'api';
  const route = config.extras?.routePrefix ?? 'upload';
  return {
    app,
    baseUrl,
    uploadUrl: `${baseUrl}/${prefix ? `${prefix}/` : ''}${route}`,
    dataDir,
    chunkDir,
    assembledDir,
    loggedErrors: () => recordedSince(since),
    close: async () => {
      try {
        await app.close();
      } finally {
        if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
      const expected = config.expectedErrors ?? [];
      const unhandled = recordedSince(since).filter((entry) => entry.unhandled && !expected.some((pattern) => pattern.test(entry.text)));
      if (unhandled.length > 0) {
        throw new Error(
          `the app recorded ${unhandled.length} unhandled error(s) while it ran:\n${unhandled.map((entry) => `[${entry.source}] ${entry.text}`).join('\n\n')}`,
        );
      }
    },
  };
}

/**
 * The usual frame of an e2e describe block: before it, a fresh database of
 * `kind` and a test app on it (handed to `ready`); after it, the app closed
 * and the database dropped.
 */
export function withTestApp(kind: DatabaseKind, config: Omit<TestAppOptions, 'db'>, ready: (t: TestApp, db: TestDatabase) => void): void {
  let db: TestDatabase | undefined;
  let t: TestApp | undefined;
  before(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ ...config, db });
    ready(t, db);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });
}
