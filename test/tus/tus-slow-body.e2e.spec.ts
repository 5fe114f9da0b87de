/**
 * A tus PATCH body trickled slower than `minChunkBodyRate` over a whole
 * `chunkBodyRateWindow` is cut as a frago chunk body is (408 BODY_TOO_SLOW,
 * `Connection: close`), but with tus semantics: the bytes that arrived before
 * the cut are stored and counted, HEAD reports them, and the client resumes
 * from there. With `Upload-Checksum` a cut body cannot be verified and
 * nothing counts. A body at a steady rate above the minimum is stored.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pacedBody, type BodyPace } from '../helpers/raw-http';
import { databaseKinds } from '../helpers/test-databases';
import { testBytes } from '../helpers/upload-client';
import type { TestApp } from '../helpers/create-test-app';
import { tusSuite } from './support/tus-app';
import { createTus, headTus, metadata, patchTus, uploadChecksum } from './support/tus-http';

const SIZE = 16384;
const RATE = 1000;
const WINDOW_MS = 500;

/**
 * A PATCH of `body` at `offset` on a raw socket: the head and the first
 * `lead` bytes at once, then `step` bytes every `everyMs` until the body is
 * sent or the server answers and closes.
 */
function slowPatch(url: string, offset: number, body: Buffer, pace: Omit<BodyPace, 'upTo'>, headers: Record<string, string> = {}) {
  const target = new URL(url);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const head =
    `PATCH ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n` +
    `Upload-Offset: ${offset}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n${extra}\r\n`;
  return pacedBody(url, head, body, { ...pace, upTo: body.length });
}

for (const kind of databaseKinds()) {
  describe(`a slow tus PATCH body on ${kind}`, () => {
    const suite = tusSuite(kind, { minChunkBodyRate: RATE, chunkBodyRateWindow: WINDOW_MS });
    let t: TestApp;
    let files: string;
    before(() => ({ t, files } = suite));

    async function create(name: string): Promise<string> {
      const { response, url } = await createTus(files, { 'upload-length': String(SIZE), 'upload-metadata': metadata({ filename: name }) });
      assert.equal(response.status, 201);
      return url;
    }
    const offsetOf = async (url: string): Promise<number> => Number((await headTus(url)).headers.get('upload-offset'));

    it('a body trickled at a few bytes a second answers 408 BODY_TOO_SLOW with Connection: close; the bytes that arrived are stored, HEAD reports them, the rest completes the upload', async () => {
      const data = testBytes(SIZE, 91);
      const url = await create('trickled.bin');
      const { answer, sent } = await slowPatch(url, 0, data.subarray(0, 8192), { lead: 600, step: 1, everyMs: 20 });
      assert.ok(sent < 8192, 'the server answered before the body was complete');
      assert.equal(answer?.kind, 'answer', 'an answer came back');
      if (answer?.kind !== 'answer') return;
      assert.equal(answer.status, 408, answer.body);
      assert.equal(answer.headers.connection, 'close');
      assert.equal(answer.headers['tus-resumable'], '1.0.0');
      assert.equal(answer.json?.status, false);
      assert.equal(answer.json?.code, 'BODY_TOO_SLOW');
      // tus: what arrived before the cut counts (at least the lead, at most what was sent).
      const offset = await offsetOf(url);
      assert.ok(offset >= 600 && offset <= sent, `offset ${offset} between the lead (600) and the bytes sent (${sent})`);
      const rest = await patchTus(url, offset, data.subarray(offset));
      assert.equal(rest.status, 204, await rest.text());
      assert.equal(rest.headers.get('upload-offset'), String(SIZE));
      assert.deepEqual(readFileSync(join(t.assembledDir, 'trickled.bin')), data);
    });

    it('with Upload-Checksum a trickled body answers 408 and counts nothing (a cut body cannot be verified)', async () => {
      const data = testBytes(SIZE, 92);
      const url = await create('trickled-checksum.bin');
      const piece = data.subarray(0, 8192);
      const { answer } = await slowPatch(url, 0, piece, { lead: 600, step: 1, everyMs: 20 }, { 'Upload-Checksum': uploadChecksum(piece) });
      assert.equal(answer?.kind === 'answer' ? answer.status : answer?.kind, 408);
      assert.equal(await offsetOf(url), 0);
      const whole = await patchTus(url, 0, data, { 'upload-checksum': uploadChecksum(data) });
      assert.equal(whole.status, 204, await whole.text());
    });

    it('a body at a steady rate above the minimum is stored, however many windows it spans', async () => {
      const data = testBytes(SIZE, 93);
      const url = await create('steady.bin');
      // 512 bytes every 50 ms: about 10 KB/s, ten times the minimum; 8 KiB take about three windows.
      const { answer, sent } = await slowPatch(url, 0, data.subarray(0, 8192), { lead: 512, step: 512, everyMs: 50 });
      assert.equal(sent, 8192);
      assert.equal(answer?.kind === 'answer' ? answer.status : answer?.kind, 204);
      assert.equal(await offsetOf(url), 8192);
    });
  });
}
