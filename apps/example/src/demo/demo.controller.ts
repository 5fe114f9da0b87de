import { Controller, Get, Header } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const PUBLIC_DIR = join(__dirname, '..', '..', 'public');
/** The demo page's assets, served under `/assets/` by @fastify/static (see main.ts). */
export const PUBLIC_ASSETS_DIR = join(PUBLIC_DIR, 'assets');

/** Serves the demo page (apps/example/public/index.html) at `/`, outside the `api` prefix. */
@Controller()
export class DemoController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): Promise<Buffer> {
    return readFile(join(PUBLIC_DIR, 'index.html'));
  }
}
