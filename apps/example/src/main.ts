import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { readConfig } from './config/env';
import { describeDatabase, describeStartupError } from './config/database';
import { BootLogger } from './boot-logger';
import { describeStorage } from './config/storage';
import { boundShutdownGrace } from './shutdown-grace';
import { PUBLIC_ASSETS_DIR } from './demo/demo.controller';

async function bootstrap(): Promise<void> {
  const config = readConfig();
  const adapter = new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true }, bodyLimit: 1024 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger: new BootLogger({ logLevels: ['error', 'warn'] }),
    // A failed boot rejects (and is printed once below) instead of aborting the process.
    abortOnError: false,
  });
  app.setGlobalPrefix('api', { exclude: [{ path: '/', method: RequestMethod.GET }] });
  // The demo page's stylesheet and bundled script (apps/example/public/assets), served by @fastify/static
  // (paths confined to the folder, types from the file name, ETag); max-age=0: revalidated on every load, as a build changes them.
  app.useStaticAssets({ root: PUBLIC_ASSETS_DIR, prefix: '/assets/', dotfiles: 'ignore', index: false, maxAge: 0 });
  app.enableShutdownHooks();
  boundShutdownGrace(app, config.shutdownGraceMs);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(
    `nestjs-frago example listening on http://${config.host}:${port} (API /api/upload/${config.tusPath ? `, tus /api/${config.tusPath}/` : ''}, health /api/health, ${config.metrics ? 'metrics /api/metrics, ' : ''}OpenAPI /api/openapi.json, demo page /) — database: ${describeDatabase(config.databaseUrl)}, storage: ${describeStorage(config)}, identifier mode: ${config.identifierMode}`,
  );
}

bootstrap().catch((error: unknown) => {
  console.error(`Failed to start: ${describeStartupError(error)}`);
  process.exit(1);
});
