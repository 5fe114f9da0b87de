/**
 * Generated bad input over HTTP against an in-process
 * app. Whatever arrives (Content-Range strings, file names, start bodies as
 * JSON, urlencoded or multipart, header combinations on a chunk PUT), the
 * answer is never a 5xx, never shows a stack trace or a server path, and no
 * file ever appears outside the configured folders.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { digest, startOk } from '../helpers/upload-client';
import { listFiles } from './support/files';

const RUNS = 150;
const TOTAL = 1000;
/** The data folder sits six levels below the scanned root, so an escaping `../` still lands inside it. */
const NESTING = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 80 });
const numberText = fc.oneof(fc.nat({ max: 2 * TOTAL }).map(String), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String), printable);

describe('generated bad input never breaks the server', () => {
  let db: TestDatabase;
  let t: TestApp;
  let root: string;
  let dataDir: string;
  let uploadId: string;

  /** Every answer: below 500, no stack frame, no server path. */
  async function check(response: Response, what: string): Promise<number> {
    const text = await response.text();
    assert.ok(response.status < 500, `${what}: ${response.status} ${text}`);
    assert.ok(!text.includes('    at '), `${what}: stack trace in ${text}`);
    assert.ok(!text.includes(root) && !text.includes(dataDir), `${what}: server path in ${text}`);
    return response.status;
  }

  before(async () => {
    db = await createTestDatabase('sqlite');
    root = mkdtempSync(join(tmpdir(), 'frago-props-'));
    dataDir = join(root, ...NESTING, 'data');
    mkdirSync(dataDir, { recursive: true });
    t = await createTestApp({ db, dataDir, options: { maxChunkSize: 4096 } });
    uploadId = await startOk(t.uploadUrl, 'target.bin', TOTAL);
  });
  after(async () => {
    await t?.close();
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('arbitrary Content-Range strings on PUT', async () => {
    const range = fc.oneof(
      printable,
      fc
        .tuple(
          fc.constantFrom('bytes ', 'bytes\t', 'BYTES ', 'bytes', 'items ', ''),
          numberText,
          fc.constantFrom('-', '+', '', '--', ' - '),
          numberText,
          fc.constantFrom('/', '/*', ''),
          numberText,
        )
        .map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(range, fc.uint8Array({ maxLength: 64 }), async (contentRange, body) => {
        const response = await fetch(`${t.uploadUrl}/${uploadId}/`, {
          method: 'PUT',
          headers: { 'content-range': contentRange, 'content-type': 'application/octet-stream' },
          body,
        });
        await check(response, `Content-Range ${JSON.stringify(contentRange)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary file names: refused with 400 or started, and then published inside the assembled folder', async () => {
    const name = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 120 }),
      fc
        .array(fc.constantFrom('..', '.', '/', '\\', 'a', 'é', '\u0000', '\u001f', '\u202e', 'C:', '~', ' ', 'CON', '%2e%2e', '\n'), { maxLength: 30 })
        .map((parts) => parts.join('')),
      fc.nat({ max: 600 }).map((n) => 'x'.repeat(n)),
    );
    const data = Buffer.from('four');
    await fc.assert(
      fc.asyncProperty(name, async (filename) => {
        const started = await fetch(`${t.uploadUrl}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ filename, total_size: data.length }),
        });
        const text = await started.clone().text();
        const status = await check(started, `filename ${JSON.stringify(filename)}`);
        assert.ok(status === 201 || status === 400, `filename ${JSON.stringify(filename)}: ${status} ${text}`);
        if (status !== 201) return;
        const id = (JSON.parse(text) as { upload_id: string }).upload_id;
        const put = await fetch(`${t.uploadUrl}/${id}/`, {
          method: 'PUT',
          headers: { 'content-range': `bytes 0-3/${data.length}`, 'content-type': 'application/octet-stream' },
          body: data,
        });
        assert.equal(await check(put, 'chunk'), 200);
        const done = await fetch(`${t.uploadUrl}/${id}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ checksum: digest(data) }),
        });
        assert.equal(await check(done, `finalize of ${JSON.stringify(filename)}`), 201);
      }),
      { numRuns: RUNS },
    );
  });

  it('start bodies of arbitrary shapes: JSON, urlencoded, multipart, garbage', async () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('a.bin', '', '0', '-1', '1e3', '9007199254740993', 'NaN', '10'));
    const fields = fc.dictionary(fc.oneof(fc.constantFrom('filename', 'total_size', '__proto__', 'constructor'), fc.string({ maxLength: 12 })), field, {
      maxKeys: 6,
    });
    const asText = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((value) => ({ type: 'application/json', body: JSON.stringify(value) as BodyInit })),
      fields.map((value) => ({ type: 'application/json', body: JSON.stringify(value) as BodyInit })),
      fields.map((value) => ({
        type: 'application/x-www-form-urlencoded',
        body: new URLSearchParams(Object.entries(value).map(([k, v]) => [k, asText(v)])).toString() as BodyInit,
      })),
      fields.map((value) => {
        const form = new FormData();
        for (const [k, v] of Object.entries(value)) form.append(k, asText(v));
        return { type: undefined, body: form as BodyInit };
      }),
      fc
        .tuple(
          fc.constantFrom(
            'application/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
            'multipart/form-data; boundary=x',
            'text/plain',
            'application/octet-stream',
          ),
          printable,
        )
        .map(([type, text]) => ({ type, body: text as BodyInit })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ type, body: payload }) => {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const response = await fetch(`${t.uploadUrl}/`, { method: 'POST', headers, body: payload });
        const status = await check(response, `start body ${typeof payload === 'string' ? payload : '(a multipart form)'}`);
        assert.ok([201, 400, 413, 415].includes(status), `start answered ${status}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('header combinations on a chunk PUT', async () => {
    const id = fc.oneof(
      fc.constant('__upload__'),
      fc.uuid().map(String),
      fc.constantFrom('..%2f..%2fetc', '%00', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', 'a'.repeat(300)),
    );
    const contentType = fc.option(
      fc.constantFrom(
        'application/octet-stream',
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'multipart/form-data; boundary=zz',
        'text/plain',
        'application/json',
        'application/x-www-form-urlencoded',
        '*/*',
      ),
    );
    const range = fc.option(fc.tuple(fc.nat({ max: TOTAL + 5 }), fc.nat({ max: 5000 })).map(([start, length]) => `bytes ${start}-${start + length}/${TOTAL}`));
    const digestHeader = fc.option(
      fc.oneof(
        printable,
        printable.map((value) => `sha-256=:${value}:`),
        fc.constantFrom('sha-512=:AAAA:', 'md5=:x:', 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:'),
      ),
    );
    const md5Header = fc.option(printable);
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => bytes as BodyInit),
      fc.dictionary(fc.constantFrom('file', 'other', 'FILE', ''), fc.string({ maxLength: 40 }), { maxKeys: 3 }).map((value) => {
        const form = new FormData();
        for (const [k, v] of Object.entries(value)) form.append(k, new Blob([v]), 'chunk');
        return form as BodyInit;
      }),
    );
    await fc.assert(
      fc.asyncProperty(id, contentType, range, digestHeader, md5Header, body, async (target, type, contentRange, contentDigest, contentMd5, payload) => {
        const headers: Record<string, string> = {};
        if (type !== null && !(payload instanceof FormData)) headers['content-type'] = type;
        if (contentRange !== null) headers['content-range'] = contentRange;
        if (contentDigest !== null) headers['content-digest'] = contentDigest;
        if (contentMd5 !== null) headers['content-md5'] = contentMd5;
        const path = target === '__upload__' ? uploadId : target;
        const response = await fetch(`${t.uploadUrl}/${path}/`, { method: 'PUT', headers, body: payload });
        await check(response, `PUT ${JSON.stringify(headers)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('left no file outside the configured folders', () => {
    const inside = join(...NESTING, 'data');
    for (const file of listFiles(root)) {
      assert.ok(file.startsWith(join(inside, 'chunks') + '/') || file.startsWith(join(inside, 'assembled') + '/'), `stray file ${file}`);
    }
  });
});
