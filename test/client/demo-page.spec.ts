/**
 * The example app's demo page (apps/example/public + apps/example/browser) in
 * a real browser: Debian's Chromium driven by playwright-core uploads
 * generated files through the page, and the bytes the app published under
 * FRAGO_DATA_DIR/assembled_uploads must equal the source. Screenshots go to
 * test-artifacts/. Without /usr/bin/chromium the suites are skipped with a loud
 * notice saying how to enable them; under CI=true (.ci/run installs Chromium) a
 * missing browser is a failing test instead.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { REPO_ROOT, startExampleApp, type ExampleApp } from './support/example-app';
import { uniqueName } from './support/files';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const WAIT_MS = 60_000;
const MiB = 1024 * 1024;

/** A chunk PUT of some upload: `/api/upload/<uuid>/`. */
const CHUNK_URL = /\/api\/upload\/[0-9a-f-]{36}\/?$/i;

/** Why the browser suites cannot run here, or false when they can. */
const NO_BROWSER: string | false = existsSync(CHROMIUM)
  ? false
  : `browser tests SKIPPED (demo page in Chromium): ${CHROMIUM} is missing; install it with \`apt-get install -y chromium\` to run them`;

if (NO_BROWSER) {
  console.warn(`\n${'!'.repeat(NO_BROWSER.length)}\n${NO_BROWSER}\n${'!'.repeat(NO_BROWSER.length)}\n`);
  if (process.env.CI === 'true') {
    it('runs the demo page browser tests in CI', () => {
      throw new Error(`${NO_BROWSER}; CI=true does not allow skipping them`);
    });
  }
}

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the demo page test needs Debian's Chromium. Install it with ` +
        '`apt-get install -y chromium` (.ci/run does this in CI).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Opens the page at `/` and waits until it has asked the server which mode it runs in. */
async function openDemo(browser: Browser, app: ExampleApp): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${app.port}/`);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  return { page, errors };
}

/** Picks one generated file through the page's file input. */
async function pickFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  await page.setInputFiles('#file-input', { name, mimeType: 'application/octet-stream', buffer: bytes });
}

/** Sets the upload options the way a user would. */
async function setOptions(page: Page, options: { chunkSize: number; parallel: number; algorithm: 'md5' | 'sha256' }): Promise<void> {
  await page.selectOption('#chunk-size', String(options.chunkSize));
  await page.fill('#parallel', String(options.parallel));
  await page.selectOption('#algorithm', options.algorithm);
}

interface RowSnapshot {
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
async function waitForRow(page: Page, name: string, states: string[]): Promise<RowSnapshot> {
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
async function waitForComplete(page: Page, name: string): Promise<RowSnapshot> {
  const row = await waitForRow(page, name, ['complete', 'failed', 'cancelled']);
  assert.equal(row.state, 'complete', `${name} ended as ${row.state}: ${row.detail}`);
  return row;
}

/** Holds chunk PUTs (after letting `pass` through) until released; the page sees slow chunks. */
class ChunkGate {
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

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

describe('demo page in Chromium (anonymous mode)', { skip: NO_BROWSER }, () => {
  let app: ExampleApp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let errors: string[];

  before(async () => {
    browser = await launchChromium();
    app = await startExampleApp();
    ({ page, errors } = await openDemo(browser, app));
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('serves the page, its stylesheet and its bundled script', async () => {
    const base = `http://127.0.0.1:${app!.port}`;
    const html = await fetch(`${base}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    for (const [asset, type] of [['demo.js', /javascript/], ['demo.css', /text\/css/]] as const) {
      const response = await fetch(`${base}/assets/${asset}`);
      assert.equal(response.status, 200, asset);
      assert.match(response.headers.get('content-type') ?? '', type, asset);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=0', `${asset} is revalidated on every load`);
    }
    // @fastify/static serves the assets folder and nothing beside it.
    for (const outside of ['nope.js', '%2e%2e/index.html', '%2e%2e/%2e%2e/src/main.ts', '.gitignore']) {
      const response = await fetch(`${base}/assets/${outside}`);
      assert.ok(response.status === 404 || response.status === 403, `/assets/${outside} answers ${response.status}`);
    }
    assert.match((await page.textContent('#mode')) ?? '', /Anonymous mode/);
    assert.equal(await page.isVisible('#token'), false, 'no token field in anonymous mode');
    assert.equal(await page.isVisible('#list-section'), false, 'no upload list in anonymous mode');
  });

  it('uploads a picked file in parallel chunks; the bytes on disk equal the source and the server confirmed the SHA-256', { timeout: 120_000 }, async () => {
    const name = uniqueName('demo-page');
    const bytes = randomBytes(3 * MiB + 77);
    await setOptions(page, { chunkSize: MiB, parallel: 3, algorithm: 'sha256' });
    await pickFile(page, name, bytes);

    const row = await waitForComplete(page, name);
    assert.equal(row.algorithm, 'sha256');
    assert.equal(row.checksum, sha256(bytes));
    assert.match(row.detail, /SHA-256 confirmed by the server/);
    assert.equal(row.percent, '100%');
    assert.equal(row.progress, row.progressMax);
    assert.match(row.uploadId, /^[0-9a-f-]{36}$/);

    const onDisk = await app!.readAssembled(name);
    assert.equal(onDisk.length, bytes.length);
    assert.ok(onDisk.equals(bytes), 'the assembled file equals the uploaded bytes');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
  });

  it('uploads through tus (tus-js-client, 3 partial uploads the server concatenates) when tus is picked; the bytes on disk equal the source', { timeout: 120_000 }, async () => {
    assert.equal(await page.getAttribute('body', 'data-tus'), 'on', 'the page found the tus endpoint (OPTIONS /api/files/)');
    assert.equal(await page.isVisible('#protocol'), true);
    const tusRequests: string[] = [];
    const record = (request: import('playwright-core').Request): void => {
      if (new URL(request.url()).pathname.startsWith('/api/files/')) tusRequests.push(`${request.method()} ${request.headers()['upload-concat'] ?? ''}`.trim());
    };
    page.on('request', record);
    try {
      await page.selectOption('#protocol', 'tus');
      await setOptions(page, { chunkSize: 256 * 1024, parallel: 3, algorithm: 'md5' });
      const name = uniqueName('demo-tus');
      const bytes = randomBytes(2 * MiB + 555);
      await pickFile(page, name, bytes);
      const row = await waitForComplete(page, name);
      assert.equal(row.percent, '100%');
      assert.match(row.uploadId, /^[0-9a-f-]{36}$/);
      assert.match(row.detail, /Stored through tus, in 3 partial uploads concatenated by the server/);
      const onDisk = await app!.readAssembled(name);
      assert.ok(onDisk.equals(bytes), 'the assembled file equals the uploaded bytes');
      const status = await fetch(`${app!.apiUrl}/upload/${row.uploadId}/`);
      assert.equal(((await status.json()) as { status: string }).status, 'complete', 'the tus upload is a frago upload like any other');
      assert.equal(tusRequests.filter((request) => request === 'POST partial').length, 3, tusRequests.join(', '));
      assert.equal(tusRequests.filter((request) => request.startsWith('POST final;')).length, 1, tusRequests.join(', '));
    } finally {
      page.off('request', record);
      await page.selectOption('#protocol', 'frago');
    }
    assert.deepEqual(errors, [], 'no script errors on the page');
  });

  it('cancels an upload in flight and deletes it on the server', { timeout: 120_000 }, async () => {
    const gate = new ChunkGate(1);
    await page.route(CHUNK_URL, gate.handler);
    try {
      const name = uniqueName('demo-cancel');
      await setOptions(page, { chunkSize: 256 * 1024, parallel: 2, algorithm: 'md5' });
      await pickFile(page, name, randomBytes(2 * MiB));
      const running = await waitForRow(page, name, ['uploading']);
      await page.waitForFunction(() => document.querySelector('li.file:last-child .percent')?.textContent !== '0%');
      await page.click(`li.file[data-name="${name}"] .actions button`);
      const row = await waitForRow(page, name, ['cancelled', 'complete', 'failed']);
      assert.equal(row.state, 'cancelled', row.detail);
      assert.match(row.detail, /deleted on the server/);
      assert.notEqual(row.percent, '100%');
      const id = running.uploadId || row.uploadId;
      assert.match(id, /^[0-9a-f-]{36}$/);
      const status = await fetch(`${app!.apiUrl}/upload/${id}/`);
      assert.equal(status.status, 404, 'the cancelled upload is gone');
    } finally {
      await gate.release();
      await page.unroute(CHUNK_URL, gate.handler);
    }
    assert.deepEqual(errors, [], 'no script errors on the page');
  });
});

describe('demo page in Chromium (user mode)', { skip: NO_BROWSER }, () => {
  let app: ExampleApp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let errors: string[];

  before(async () => {
    browser = await launchChromium();
    app = await startExampleApp({ FRAGO_IDENTIFIER_MODE: 'user', FRAGO_DEMO_TOKENS: 'demo:alice,other:bob' });
    ({ page, errors } = await openDemo(browser, app));
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows the token field and reports the server refusing an upload without a token', { timeout: 120_000 }, async () => {
    assert.match((await page.textContent('#mode')) ?? '', /User mode/);
    assert.equal(await page.isVisible('#token'), true);
    assert.match((await page.textContent('#list-status')) ?? '', /Enter a token/);

    const name = uniqueName('demo-no-token');
    await pickFile(page, name, randomBytes(1000));
    const row = await waitForRow(page, name, ['failed', 'complete', 'cancelled']);
    assert.equal(row.state, 'failed');
    assert.match(row.error, /401|Authentication required|Unauthorized/i);
  });

  it('keeps the token in sessionStorage and lists the caller’s uploads', { timeout: 120_000 }, async () => {
    await page.fill('#token', 'demo');
    await page.press('#token', 'Tab'); // "change" refreshes the list
    await page.waitForFunction(() => /No uploads yet/.test(document.getElementById('list-status')?.textContent ?? ''));
    await page.reload();
    await page.waitForSelector('body[data-ready]', { state: 'attached' });
    assert.equal(await page.inputValue('#token'), 'demo', 'the token survives a reload of the tab');
    assert.match((await page.textContent('#list-status')) ?? '', /No uploads yet/);
  });

  it('uploads with the token; the list shows the upload, one in progress beside one completed', { timeout: 180_000 }, async () => {
    const first = uniqueName('demo-user-a');
    const firstBytes = randomBytes(3 * MiB + 77);
    await setOptions(page, { chunkSize: MiB, parallel: 4, algorithm: 'md5' });
    await pickFile(page, first, firstBytes);
    const done = await waitForComplete(page, first);
    assert.equal(done.checksum, md5(firstBytes));
    assert.ok((await app!.readAssembled(first)).equals(firstBytes), 'first file on disk equals the source');
    await page.waitForSelector(`#list-body tr[data-upload-id="${done.uploadId}"] .badge-complete`);

    // A second, slower upload: chunks after the second are held, so the page shows it mid-way.
    const gate = new ChunkGate(2);
    await page.route(CHUNK_URL, gate.handler);
    const second = uniqueName('demo-user-b');
    const secondBytes = randomBytes(7 * MiB + 5);
    try {
      await setOptions(page, { chunkSize: MiB, parallel: 2, algorithm: 'sha256' });
      await pickFile(page, second, secondBytes);
      await page.waitForFunction(
        (fileName) => {
          const row = Array.from(document.querySelectorAll<HTMLLIElement>('li.file')).find((li) => li.dataset.name === fileName);
          return row?.dataset.state === 'uploading' && row.querySelector('progress')!.value >= 2 * 1024 * 1024;
        },
        second,
      );
      await page.click('#refresh-list').catch(() => undefined);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'demo-page-user.png'), fullPage: true });
      assert.ok(gate.heldCount > 0, 'chunks were held');
    } finally {
      await gate.release();
      await page.unroute(CHUNK_URL, gate.handler);
    }
    const secondDone = await waitForComplete(page, second);
    assert.equal(secondDone.checksum, sha256(secondBytes));
    assert.ok((await app!.readAssembled(second)).equals(secondBytes), 'second file on disk equals the source');

    // The list, refreshed after the upload, holds both, newest first.
    await page.waitForSelector(`#list-body tr[data-upload-id="${secondDone.uploadId}"] .badge-complete`);
    const ids = await page.$$eval('#list-body tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.uploadId));
    assert.deepEqual(ids.slice(0, 2), [secondDone.uploadId, done.uploadId]);
    assert.equal(ids.length, 2, 'only alice’s uploads (the failed one never started)');
    assert.deepEqual(errors, [], 'no script errors on the page');
  });
});
