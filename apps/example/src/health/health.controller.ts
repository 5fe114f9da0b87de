import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { FragoHealth, type FragoHealthReport } from 'nestjs-frago';

/** Liveness and readiness for orchestrators, under /api/health. */
@Controller('health')
export class HealthController {
  constructor(private readonly health: FragoHealth) {}

  /** Liveness: the process serves requests (no dependency is checked, so a database outage does not restart it). */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and the storage takes writes; 503 otherwise. */
  @Get(['ready', ''])
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<FragoHealthReport> {
    const report = await this.health.check();
    if (report.status !== 'ok') reply.status(503);
    return report;
  }
}
