/**
 * The demo page's browser harness: Debian's Chromium driven by playwright-core,
 * the example app, and the page's own controls (file input, options, rows).
 * Without /usr/bin/chromium the suites are skipped with a loud notice; under
 * CI=true a missing browser is a failing test instead (test/helpers/chromium.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { browserSkipReason, launchChromium } from '../../helpers/chromium';
import { REPO_ROOT, startExampleApp, type ExampleApp } from './example-app';
import { UPLOAD_ID_SOURCE } from 'nestjs-frago/dist/protocol/upload-id';

export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
export const WAIT_MS = 60_000;
export const MiB = 1024 * 1024;

/** A chunk PUT of some upload: `/api/upload/<uuid>/`. */
export const CHUNK_URL = new RegExp(`/api/upload/${UPLOAD_ID_SOURCE}/?$`, 'i');

/** Opens the page at `/` and waits until it has asked the server which mode it runs in. */
export async function openDemo(browser: Browser, app: ExampleApp): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${app.port}/`);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  return { page, errors };
}

/** Picks one generated file through the page's file input. */
export async function pickFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.setInputFiles('#file-input', { name, mimeType: 'application/octet-stream', buffer: bytes });
}

/** Sets the upload options the way a user would. */
export async function setOptions(page: Page, options: { chunkSize: number; parallel: number; algorithm: 'md5' | 'sha256' }): Promise<void> {
  await page.selectOption('#chunk-size', String(options.chunkSize));
  await page.fill('#parallel', String(options.parallel));
  await page.selectOption('#algorithm', options.algorithm);
}

export interface RowSnapshot {
  state: string;
  uploadId: string;
  checksum: string;
  algorithm: string;
  error: string;
  percent: string;
  progress: number;
  progressMax: number;
  detail: string;
}

/** Waits (bounded) until the file's row reaches one of `states`, and returns what it shows. */
export async function waitForRow(page: Page, name: string, states: string[]): Promise<RowSnapshot> {
  const handle = await page.waitForFunction(
    ([fileName, wanted]) => {
      const row = Array.from(document.querySelectorAll<HTMLLIElement>('li.file')).find((li) => li.dataset.name === fileName);
      if (row === undefined || !wanted.includes(row.dataset.state ?? '')) return false;
      const progress = row.querySelector('progress')!;
      return {
        state: row.dataset.state ?? '',
        uploadId: row.dataset.uploadId ?? '',
        checksum: row.dataset.checksum ?? '',
        algorithm: row.dataset.algorithm ?? '',
        error: row.dataset.error ?? '',
        percent: row.querySelector('.percent')?.textContent ?? '',
        progress: progress.value,
        progressMax: progress.max,
        detail: row.querySelector('.detail')?.textContent ?? '',
      };
    },
    [name, states] as const,
    { timeout: WAIT_MS },
  );
  return (await handle.jsonValue()) as RowSnapshot;
}

/** Waits for the final state of an upload and asserts it completed. */
export async function waitForComplete(page: Page, name: string): Promise<RowSnapshot> {
  const row = await waitForRow(page, name, ['complete', 'failed', 'cancelled']);
  assert.equal(row.state, 'complete', `${name} ended as ${row.state}: ${row.detail}`);
  return row;
}

/** Holds chunk PUTs (after letting `pass` through) until released; the page sees slow chunks. */
export class ChunkGate {
  private readonly held: Route[] = [];
  private passed = 0;
  private open = false;

  constructor(private readonly pass: number) {}

  readonly handler = async (route: Route): Promise<void> => {
    if (route.request().method() !== 'PUT' || this.open || this.passed < this.pass) {
      if (route.request().method() === 'PUT') this.passed++;
      await route.fallback();
      return;
    }
    this.held.push(route);
  };

  get heldCount(): number {
    return this.held.length;
  }

  /** Lets every held and future chunk through. */
  async release(): Promise<void> {
    this.open = true;
    // A request the page already aborted cannot be continued; that is fine.
    await Promise.all(this.held.splice(0).map((route) => route.fallback().catch(() => undefined)));
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export interface OpenDemo {
  app: ExampleApp;
  page: Page;
  errors: string[];
}

/**
 * A demo-page describe block: Chromium and the example app (with `env`)
 * started and the page opened before its tests (`demo` is filled in then),
 * both stopped after them; skipped loudly where Chromium is missing.
 */
export function describeDemoPage(mode: string, env: Record<string, string> | undefined, body: (demo: OpenDemo) => void): void {
  const title = `demo page in Chromium (${mode})`;
  const skip = browserSkipReason(title);
  describe(title, { skip }, () => {
    const demo = {} as OpenDemo;
    let browser: Browser | undefined;
    before(async () => {
      browser = await launchChromium();
      demo.app = await startExampleApp(env);
      Object.assign(demo, await openDemo(browser, demo.app));
    });
    after(async () => {
      await browser?.close();
      await demo.app?.stop();
    });
    body(demo);
  });
}
