/**
 * The demo page in Chromium in user mode (FRAGO_IDENTIFIER_MODE=user, bearer
 * tokens from FRAGO_DEMO_TOKENS): the token field, the server refusing an
 * upload without one, the caller's list. Anonymous mode: demo-page.spec.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { uniqueName } from './support/files';
import { ARTIFACTS, CHUNK_URL, ChunkGate, describeDemoPage, MiB, pickFile, setOptions, waitForComplete, waitForRow, md5, sha256 } from './support/demo-browser';

describeDemoPage('user mode', { FRAGO_IDENTIFIER_MODE: 'user', FRAGO_DEMO_TOKENS: 'demo:alice,other:bob' }, (demo) => {
  it('shows the token field and reports the server refusing an upload without a token', { timeout: 120_000 }, async () => {
    assert.match((await demo.page.textContent('#mode')) ?? '', /User mode/);
    assert.equal(await demo.page.isVisible('#token'), true);
    assert.match((await demo.page.textContent('#list-status')) ?? '', /Enter a token/);

    const name = uniqueName('demo-no-token');
    await pickFile(demo.page, name, randomBytes(1000));
    const row = await waitForRow(demo.page, name, ['failed', 'complete', 'cancelled']);
    assert.equal(row.state, 'failed');
    assert.match(row.error, /401|Authentication required|Unauthorized/i);
  });

  it('keeps the token in sessionStorage and lists the caller’s uploads', { timeout: 120_000 }, async () => {
    await demo.page.fill('#token', 'demo');
    await demo.page.press('#token', 'Tab'); // "change" refreshes the list
    await demo.page.waitForFunction(() => /No uploads yet/.test(document.getElementById('list-status')?.textContent ?? ''));
    await demo.page.reload();
    await demo.page.waitForSelector('body[data-ready]', { state: 'attached' });
    assert.equal(await demo.page.inputValue('#token'), 'demo', 'the token survives a reload of the tab');
    assert.match((await demo.page.textContent('#list-status')) ?? '', /No uploads yet/);
  });

  it('uploads with the token; the list shows the upload, one in progress beside one completed', { timeout: 180_000 }, async () => {
    const first = uniqueName('demo-user-a');
    const firstBytes = randomBytes(3 * MiB + 77);
    await setOptions(demo.page, { chunkSize: MiB, parallel: 4, algorithm: 'md5' });
    await pickFile(demo.page, first, firstBytes);
    const done = await waitForComplete(demo.page, first);
    assert.equal(done.checksum, md5(firstBytes));
    assert.ok((await demo.app.readAssembled(first)).equals(firstBytes), 'first file on disk equals the source');
    await demo.page.waitForSelector(`#list-body tr[data-upload-id="${done.uploadId}"] .badge-complete`);

    // A second, slower upload: chunks after the second are held, so the page shows it mid-way.
    const gate = new ChunkGate(2);
    await demo.page.route(CHUNK_URL, gate.handler);
    const second = uniqueName('demo-user-b');
    const secondBytes = randomBytes(7 * MiB + 5);
    try {
      await setOptions(demo.page, { chunkSize: MiB, parallel: 2, algorithm: 'sha256' });
      await pickFile(demo.page, second, secondBytes);
      await demo.page.waitForFunction((fileName) => {
        const row = Array.from(document.querySelectorAll<HTMLLIElement>('li.file')).find((li) => li.dataset.name === fileName);
        return row?.dataset.state === 'uploading' && row.querySelector('progress')!.value >= 2 * 1024 * 1024;
      }, second);
      await demo.page.click('#refresh-list').catch(() => undefined);
      await mkdir(ARTIFACTS, { recursive: true });
      await demo.page.screenshot({ path: join(ARTIFACTS, 'demo-page-user.png'), fullPage: true });
      assert.ok(gate.heldCount > 0, 'chunks were held');
    } finally {
      await gate.release();
      await demo.page.unroute(CHUNK_URL, gate.handler);
    }
    const secondDone = await waitForComplete(demo.page, second);
    assert.equal(secondDone.checksum, sha256(secondBytes));
    assert.ok((await demo.app.readAssembled(second)).equals(secondBytes), 'second file on disk equals the source');

    // The list, refreshed after the upload, holds both, newest first.
    await demo.page.waitForSelector(`#list-body tr[data-upload-id="${secondDone.uploadId}"] .badge-complete`);
    const ids = await demo.page.$$eval('#list-body tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.uploadId));
    assert.deepEqual(ids.slice(0, 2), [secondDone.uploadId, done.uploadId]);
    assert.equal(ids.length, 2, 'only alice’s uploads (the failed one never started)');
    assert.deepEqual(demo.errors, [], 'no script errors on the page');
  });
});
