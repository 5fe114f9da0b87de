/**
 * Test host app for multi-process scenarios: the example app's own module
 * (same environment variables, same migrations), plus a host handler that
 * records every `upload.completed` as a row of `frago_event_log`, so a test
 * can count events across several processes. Started as a child process:
 * `node test/dist/faults/support/host-app.js`.
 */
import 'reflect-metadata';
import { Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OnEvent } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FragoEvents, type UploadCompletedEvent } from 'nestjs-frago';
import type * as ExampleModule from '../../../apps/example/src/app.module';
import type * as ExampleEnv from '../../../apps/example/src/config/env';
import { REPO_ROOT } from '../../helpers/app-process';

const exampleDist = join(REPO_ROOT, 'apps', 'example', 'dist');
// The compiled example app is loaded by absolute path: this file runs from test/dist.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AppModule } = require(join(exampleDist, 'app.module.js')) as typeof ExampleModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readConfig } = require(join(exampleDist, 'config', 'env.js')) as typeof ExampleEnv;

/** Table the handler writes to; one row per event and process. */
const EVENT_LOG_TABLE = 'frago_event_log';

/** Writes each `upload.completed` to the event log table, tagged with this process id. */
@Injectable()
class CompletedEventLog implements OnApplicationBootstrap {
  private readonly logger = new Logger('EventLog');

  constructor(private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    // Several instances boot at once: a concurrent CREATE may lose, the table is there either way.
    await this.dataSource
      .query(`CREATE TABLE IF NOT EXISTS ${EVENT_LOG_TABLE} (upload_id varchar(36) NOT NULL, event varchar(32) NOT NULL, pid integer NOT NULL)`)
      .catch(() => undefined);
  }

  @OnEvent(FragoEvents.UploadCompleted, { async: true, promisify: true })
  async onCompleted(event: UploadCompletedEvent): Promise<void> {
    try {
      await this.dataSource
        .createQueryBuilder()
        .insert()
        .into(EVENT_LOG_TABLE, ['upload_id', 'event', 'pid'])
        .values({ upload_id: event.upload.id, event: FragoEvents.UploadCompleted, pid: process.pid })
        .execute();
    } catch (error) {
      this.logger.error(`could not log upload.completed for ${event.upload.id}: ${(error as Error).message}`);
    }
  }
}

@Module({})
class HostAppModule {
  static register(config: ReturnType<typeof readConfig>): DynamicModule {
    return { module: HostAppModule, imports: [AppModule.register(config)], providers: [CompletedEventLog] };
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const adapter = new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } });
  const app = await NestFactory.create<NestFastifyApplication>(HostAppModule.register(config), adapter, { logger: ['error', 'warn'] });
  app.setGlobalPrefix('api');
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(`fault-test host app (pid ${process.pid}) listening on ${config.host}:${port}`);
}

main().catch((error: unknown) => {
  console.error(`host app failed to start: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
