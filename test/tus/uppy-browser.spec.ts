/**
 * Uppy (`@uppy/core` + `@uppy/tus`), through the README's snippet
 * (test/fixtures/uppy/uppy-tus.ts, bundled for the browser by esbuild),
 * drives real uploads to the example app's tus endpoint (/api/files/) in
 * Debian's Chromium, sequentially and in parallel, and the bytes published
 * under FRAGO_DATA_DIR/assembled_uploads must equal the source.
 *
 * The page is loaded from another origin (`localhost` instead of
 * `127.0.0.1`), so every tus request is a CORS request: the preflight, the
 * allowed request headers and the exposed response headers (Location,
 * Upload-Offset) are what the browser really checks.
 *
 * Parallel: Uppy's Tus plugin has no parallel option of its own (its `limit`
 * is how many *files* upload at once); it hands tus-js-client's options
 * through, so `parallelUploads: 4` splits one file into 4 partial uploads
 * and one final concatenation, which is what this suite checks, request by
 * request.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import type { Browser, Page, Request } from 'playwright-core';
import { REPO_ROOT, startExampleApp, type ExampleApp } from '../client/support/example-app';
import { uniqueName } from '../client/support/files';
import { browserSkipReason, launchChromium } from '../helpers/chromium';
import { getStatus } from '../helpers/upload-client';
import { UPLOAD_ID_SOURCE } from 'nestjs-frago/dist/protocol/upload-id';

const NO_BROWSER = browserSkipReason('Uppy in Chromium');
const MiB = 1024 * 1024;
const WAIT_MS = 90_000;

/** The README's Uppy snippet (a page's code, DOM types, ES modules). */
const SNIPPET = join(REPO_ROOT, 'test', 'fixtures', 'uppy', 'uppy-tus.ts');

/** The README's Uppy snippet, with Uppy and its Tus plugin, as one browser script defining `window.FragoUppyTest`. */
function uppyBundle(): string {
  const result = buildSync({
    stdin: {
      contents: `import { uploadWithUppy } from ${JSON.stringify(SNIPPET)}; window.FragoUppyTest = { uploadWithUppy };`,
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** What the page reports of one Uppy upload. */
interface UppyOutcome {
  urls: string[];
  error: string;
}

/** Options of one Uppy run in the page. */
interface UppyRun {
  endpoint: string;
  name: string;
  base64: string;
  chunkSize: number;
  parallelUploads: number;
}

/** Uploads one file with the README's `uploadWithUppy()` inside the page (runs in the browser). */
async function uploadWithUppy(page: Page, run: UppyRun): Promise<UppyOutcome> {
  return page.evaluate(async ({ endpoint, name, base64, chunkSize, parallelUploads }) => {
    type Upload = (files: File[], options: { endpoint?: string; chunkSize?: number; parallelUploads?: number }) => Promise<string[]>;
    const { uploadWithUppy: upload } = (window as unknown as { FragoUppyTest: { uploadWithUppy: Upload } }).FragoUppyTest;
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    try {
      return { urls: await upload([new File([bytes], name, { type: 'application/octet-stream' })], { endpoint, chunkSize, parallelUploads }), error: '' };
    } catch (error) {
      return { urls: [], error: String(error) };
    }
  }, run);
}

/** The tus requests the page sent (method and the headers that tell them apart), recorded as they go. */
class TusRequests {
  readonly seen: Array<{ method: string; concat: string | null; offset: string | null; url: string }> = [];
  private readonly filesPath: string;

  constructor(page: Page, filesUrl: string) {
    this.filesPath = new URL(filesUrl).pathname;
    page.on('request', (request: Request) => {
      if (!new URL(request.url()).pathname.startsWith(this.filesPath)) return;
      const headers = request.headers();
      this.seen.push({ method: request.method(), concat: headers['upload-concat'] ?? null, offset: headers['upload-offset'] ?? null, url: request.url() });
    });
  }

  clear(): void {
    this.seen.length = 0;
  }

  of(method: string): Array<{ method: string; concat: string | null; offset: string | null; url: string }> {
    return this.seen.filter((request) => request.method === method);
  }
}

describe('Uppy (@uppy/core + @uppy/tus) in Chromium against the tus endpoint', { skip: NO_BROWSER, timeout: 240_000 }, () => {
  let app: ExampleApp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let requests: TusRequests;
  let endpoint: string;
  const errors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    app = await startExampleApp();
    endpoint = `http://127.0.0.1:${app.port}/api/files/`;
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => errors.push(error.message));
    // Another origin than the API's (localhost, not 127.0.0.1): the tus requests are cross-origin (CORS).
    // The page is the app's own (a real loopback answer, so Chromium's local network access rules let it
    // reach 127.0.0.1); Uppy is added to it as a script.
    await page.goto(`http://localhost:${app.port}/`);
    await page.addScriptTag({ content: uppyBundle() });
    requests = new TusRequests(page, endpoint);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('uploads a file sequentially in 1 MiB PATCHes; the file on disk equals the source and the ledger reports it complete', async () => {
    requests.clear();
    const name = uniqueName('uppy-seq');
    const bytes = randomBytes(3 * MiB + 4321);
    const outcome = await uploadWithUppy(page, { endpoint, name, base64: bytes.toString('base64'), chunkSize: MiB, parallelUploads: 1 });
    assert.equal(outcome.error, '');
    assert.equal(outcome.urls.length, 1);
    assert.match(outcome.urls[0], new RegExp(`/api/files/${UPLOAD_ID_SOURCE}$`));
    assert.ok((await app!.readAssembled(name)).equals(bytes), 'the published file equals the uploaded bytes');
    const id = outcome.urls[0].split('/').pop() as string;
    const status = await getStatus(app!.apiUrl + '/upload', id);
    assert.equal(status.body.status, 'complete');
    assert.equal(status.body.total_size, bytes.length);
    assert.equal(requests.of('POST').length, 1, 'one creation');
    assert.deepEqual(
      requests.of('PATCH').map((patch) => patch.offset),
      ['0', String(MiB), String(2 * MiB), String(3 * MiB)],
      'PATCHes at each offset in turn',
    );
    assert.deepEqual(errors, []);
  });

  it('uploads a file with parallelUploads: 4 (4 partial uploads concatenated by the server); the file on disk equals the source', async () => {
    requests.clear();
    const name = uniqueName('uppy-par');
    const bytes = randomBytes(6 * MiB + 999);
    const outcome = await uploadWithUppy(page, { endpoint, name, base64: bytes.toString('base64'), chunkSize: 512 * 1024, parallelUploads: 4 });
    assert.equal(outcome.error, '');
    assert.equal(outcome.urls.length, 1);
    assert.ok((await app!.readAssembled(name)).equals(bytes), 'the published file equals the uploaded bytes');
    const creations = requests.of('POST');
    assert.equal(creations.filter((post) => post.concat === 'partial').length, 4, 'four partial uploads');
    const finals = creations.filter((post) => post.concat?.startsWith('final;'));
    assert.equal(finals.length, 1, 'one final upload');
    assert.equal(finals[0].concat!.slice('final;'.length).trim().split(/\s+/).length, 4, 'the final lists the four partials');
    const id = outcome.urls[0].split('/').pop() as string;
    const status = await getStatus(app!.apiUrl + '/upload', id);
    assert.equal(status.body.status, 'complete');
    assert.equal(status.body.total_size, bytes.length);
    assert.deepEqual(errors, []);
  });
});

describe("the README's Uppy snippet", () => {
  it("type-checks as page code (strict, DOM, the Uppy packages' own types)", () => {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
    const check = spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'test', 'fixtures', 'uppy', 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});
