import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { FragoMetrics } from 'nestjs-frago';

/** Prometheus scrape endpoint, /api/metrics; registered only when FRAGO_METRICS is on. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: FragoMetrics) {}

  @Get()
  @Header('cache-control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    reply.header('content-type', this.metrics.contentType);
    return this.metrics.text();
  }
}
