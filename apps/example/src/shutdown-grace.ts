import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Bounds graceful shutdown (on SIGTERM in-flight chunks finish or
 * are discarded whole). Closing the server waits for every open request, so
 * one slow client could hold the process forever. Once closing starts,
 * requests have `graceMs` to finish; then the remaining connections are
 * destroyed. Their chunks were never committed, so they are discarded whole
 * and the client resends them to another (or the restarted) instance.
 */
export function boundShutdownGrace(app: NestFastifyApplication, graceMs: number): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preClose', (done) => {
      const timer = setTimeout(() => app.getHttpServer().closeAllConnections(), graceMs);
      timer.unref();
      done();
    });
}
