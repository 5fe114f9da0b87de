/**
 * The example app's demo page (apps/example/public + apps/example/browser) in
 * a real browser, anonymous mode: Debian's Chromium driven by playwright-core
 * uploads generated files through the page, and the bytes the app published
 * under FRAGO_DATA_DIR/assembled_uploads must equal the source. Screenshots go
 * to test-artifacts/. User mode: demo-page-user.spec.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { uniqueName } from './support/files';
import { ARTIFACTS, CHUNK_URL, ChunkGate, describeDemoPage, MiB, pickFile, setOptions, waitForComplete, waitForRow, sha256 } from './support/demo-browser';
import { UPLOAD_ID_PATTERN } from 'nestjs-frago/dist/protocol/upload-id';

describeDemoPage('anonymous mode', undefined, (demo) => {
  it('serves the page, its stylesheet and its bundled script', async () => {
    const base = `http://127.0.0.1:${demo.app.port}`;
    const html = await fetch(`${base}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    for (const [asset, type] of [
      ['demo.js', /javascript/],
      ['demo.css', /text\/css/],
    ] as const) {
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
    assert.match((await demo.page.textContent('#mode')) ?? '', /Anonymous mode/);
    assert.equal(await demo.page.isVisible('#token'), false, 'no token field in anonymous mode');
    assert.equal(await demo.page.isVisible('#list-section'), false, 'no upload list in anonymous mode');
  });

  it('uploads a picked file in parallel chunks; the bytes on disk equal the source and the server confirmed the SHA-256', { timeout: 120_000 }, async () => {
    const name = uniqueName('demo-page');
    const bytes = randomBytes(3 * MiB + 77);
    await setOptions(demo.page, { chunkSize: MiB, parallel: 3, algorithm: 'sha256' });
    await pickFile(demo.page, name, bytes);

    const row = await waitForComplete(demo.page, name);
    assert.equal(row.algorithm, 'sha256');
    assert.equal(row.checksum, sha256(bytes));
    assert.match(row.detail, /SHA-256 confirmed by the server/);
    assert.equal(row.percent, '100%');
    assert.equal(row.progress, row.progressMax);
    assert.match(row.uploadId, UPLOAD_ID_PATTERN);

    const onDisk = await demo.app.readAssembled(name);
    assert.equal(onDisk.length, bytes.length);
    assert.ok(onDisk.equals(bytes), 'the assembled file equals the uploaded bytes');

    await mkdir(ARTIFACTS, { recursive: true });
    await demo.page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
  });

  it(
    'uploads through tus (tus-js-client, 3 partial uploads the server concatenates) when tus is picked; the bytes on disk equal the source',
    { timeout: 120_000 },
    async () => {
      assert.equal(await demo.page.getAttribute('body', 'data-tus'), 'on', 'the page found the tus endpoint (OPTIONS /api/files/)');
      assert.equal(await demo.page.isVisible('#protocol'), true);
      const tusRequests: string[] = [];
      const record = (request: import('playwright-core').Request): void => {
        if (new URL(request.url()).pathname.startsWith('/api/files/'))
          tusRequests.push(`${request.method()} ${request.headers()['upload-concat'] ?? ''}`.trim());
      };
      demo.page.on('request', record);
      try {
        await demo.page.selectOption('#protocol', 'tus');
        await setOptions(demo.page, { chunkSize: 256 * 1024, parallel: 3, algorithm: 'md5' });
        const name = uniqueName('demo-tus');
        const bytes = randomBytes(2 * MiB + 555);
        await pickFile(demo.page, name, bytes);
        const row = await waitForComplete(demo.page, name);
        assert.equal(row.percent, '100%');
        assert.match(row.uploadId, UPLOAD_ID_PATTERN);
        assert.match(row.detail, /Stored through tus, in 3 partial uploads concatenated by the server/);
        const onDisk = await demo.app.readAssembled(name);
        assert.ok(onDisk.equals(bytes), 'the assembled file equals the uploaded bytes');
        const status = await fetch(`${demo.app.apiUrl}/upload/${row.uploadId}/`);
        assert.equal(((await status.json()) as { status: string }).status, 'complete', 'the tus upload is a frago upload like any other');
        assert.equal(tusRequests.filter((request) => request === 'POST partial').length, 3, tusRequests.join(', '));
        assert.equal(tusRequests.filter((request) => request.startsWith('POST final;')).length, 1, tusRequests.join(', '));
      } finally {
        demo.page.off('request', record);
        await demo.page.selectOption('#protocol', 'frago');
      }
      assert.deepEqual(demo.errors, [], 'no script errors on the page');
    },
  );

  it('cancels an upload in flight and deletes it on the server', { timeout: 120_000 }, async () => {
    const gate = new ChunkGate(1);
    await demo.page.route(CHUNK_URL, gate.handler);
    try {
      const name = uniqueName('demo-cancel');
      await setOptions(demo.page, { chunkSize: 256 * 1024, parallel: 2, algorithm: 'md5' });
      await pickFile(demo.page, name, randomBytes(2 * MiB));
      const running = await waitForRow(demo.page, name, ['uploading']);
      await demo.page.waitForFunction(() => document.querySelector('li.file:last-child .percent')?.textContent !== '0%');
      await demo.page.click(`li.file[data-name="${name}"] .actions button`);
      const row = await waitForRow(demo.page, name, ['cancelled', 'complete', 'failed']);
      assert.equal(row.state, 'cancelled', row.detail);
      assert.match(row.detail, /deleted on the server/);
      assert.notEqual(row.percent, '100%');
      const id = running.uploadId || row.uploadId;
      assert.match(id, UPLOAD_ID_PATTERN);
      const status = await fetch(`${demo.app.apiUrl}/upload/${id}/`);
      assert.equal(status.status, 404, 'the cancelled upload is gone');
    } finally {
      await gate.release();
      await demo.page.unroute(CHUNK_URL, gate.handler);
    }
    assert.deepEqual(demo.errors, [], 'no script errors on the page');
  });
});
