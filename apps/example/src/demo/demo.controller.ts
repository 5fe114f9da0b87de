import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const PUBLIC_DIR = join(__dirname, '..', '..', 'public');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png' };

/** Serves the demo page (apps/example/public) at `/`, outside the `api` prefix. */
@Controller()
export class DemoController {
  @Get()
  @Header('content-type', TYPES['.html'])
  index(): Promise<Buffer> {
    return readFile(join(PUBLIC_DIR, 'index.html'));
  }

  @Get('assets/:name')
  async asset(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    if (!/^[\w.-]+\.(js|css|png)$/.test(name) || name.startsWith('.')) throw new NotFoundException();
    const body = await readFile(join(PUBLIC_DIR, 'assets', name)).catch(() => {
      throw new NotFoundException();
    });
    // Browsers refuse a module script served without a JavaScript type.
    reply.header('content-type', TYPES[extname(name)]);
    reply.header('cache-control', 'no-cache');
    return body;
  }
}
