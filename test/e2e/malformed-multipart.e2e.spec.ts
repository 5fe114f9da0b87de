import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { multipartBytes, rawHead, sendRaw, type RawAnswer } from '../helpers/raw-http';

const BOUNDARY = 'frago-malformed-boundary';
const CHUNK = 64 * 1024;

/**
 * Keeps the app's error-level log lines (a client's malformed body is not a server fault) and its
 * debug lines, where the exception filter says how each refused or cut request ended: written once
 * the request's work (its reservation released) is over.
 */
class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  readonly debugs: string[] = [];
  log(): void {}
  warn(): void {}
  debug(message: unknown): void {
    this.debugs.push(String(message));
  }
  error(message: unknown): void {
    this.errors.push(String(message));
  }
}

/** Polls `check` until it returns true; fails after 10 s. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

function assertAnswer(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.kind, 'answer', `an answer arrives (got ${JSON.stringify(answer)})`);
  if (answer.kind !== 'answer') return;
  assert.equal(answer.status, status, answer.body);
  assert.equal(answer.json?.status, false, answer.body);
  assert.equal(answer.json?.code, code, answer.body);
  assert.equal(typeof answer.json?.error, 'string', answer.body);
  assert.equal(answer.headers['retry-after'], undefined, 'a malformed body is not worth a retry');
}

for (const kind of databaseKinds()) {
  describe(`malformed multipart chunk bodies on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const errorLog = new ErrorLog();

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db });
      t.app.useLogger(errorLog);
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    const rows = (id: string): Promise<number> => t.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id });

    /** A PUT of the first chunk with `body` as its exact bytes and an exact Content-Length. */
    function putRaw(id: string, total: number, body: Buffer): Buffer {
      return Buffer.concat([
        rawHead('PUT', `${t.uploadUrl}/${id}/`, {
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-range': `bytes 0-${CHUNK - 1}/${total}`,
          'content-length': body.length,
        }),
        body,
      ]);
    }

    /** Nothing of the refused chunk counts; the server still works: the right chunk is stored and the file assembles. */
    async function assertNothingRecordedThenComplete(id: string, name: string, data: Buffer): Promise<void> {
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200, 'the server is alive');
      assert.deepEqual(status.body.chunks, [], 'nothing was recorded');
      assert.equal(await rows(id), 0, 'no reservation is left behind');
      for (let start = 0; start < data.length; start += CHUNK) {
        const put = await putChunk(t.uploadUrl, id, data.subarray(start, start + CHUNK), start, data.length);
        assert.equal(put.status, 200, JSON.stringify(put.body));
        assert.equal(put.body.duplicate, undefined);
      }
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, name)), data);
      assert.deepEqual(errorLog.errors, [], 'a malformed body is not logged as a server error');
    }

    const truncations: Array<[string, (data: Buffer) => Buffer]> = [
      ['the file data and nothing after it', (data) => multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data }], false).subarray(0, -2)],
      ['the file data and a CRLF', (data) => multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data }], false)],
      [
        'the file data and a delimiter without its closing dashes',
        (data) => Buffer.concat([multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data }], false), Buffer.from(`--${BOUNDARY}`)]),
      ],
      ['half of the file data', (data) => multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data }], false).subarray(0, 200 + CHUNK / 2)],
    ];
    for (const [ending, body] of truncations) {
      it(`a multipart chunk whose body ends with ${ending} (exact Content-Length) answers 400 MALFORMED_MULTIPART, not 503, and records nothing`, async () => {
        const data = testBytes(2 * CHUNK, 3);
        const name = `truncated-${ending.length}.bin`;
        const id = await startOk(t.uploadUrl, name, data.length);
        assertAnswer(await sendRaw(t.baseUrl, putRaw(id, data.length, body(data.subarray(0, CHUNK)))), 400, 'MALFORMED_MULTIPART');
        await assertNothingRecordedThenComplete(id, name, data);
      });
    }

    it('a multipart chunk cut inside the file data (the client ends its side early) keeps the process alive and records nothing', async () => {
      const data = testBytes(2 * CHUNK, 4);
      const id = await startOk(t.uploadUrl, 'cut.bin', data.length);
      const whole = putRaw(id, data.length, multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data: data.subarray(0, CHUNK) }]));
      const answer = await sendRaw(t.baseUrl, whole.subarray(0, whole.length - CHUNK / 2), { halfClose: true });
      if (answer.kind === 'answer') assert.ok(answer.status >= 400 && answer.status < 500, answer.body);
      // The connection can close before the server even reserved the range (no answer then): wait
      // until the server says how the request ended (refused, or the client gone), which it does
      // only after releasing the reservation, so a count of rows taken now cannot come too early.
      await waitUntil('the server ended the cut request', async () => errorLog.debugs.some((line) => line.startsWith(`PUT `) && line.includes(id)));
      await assertNothingRecordedThenComplete(id, 'cut.bin', data);
    });

    it('a multipart chunk whose data holds the boundary string gets an answer (400), not a closed connection, and records nothing', async () => {
      const data = testBytes(2 * CHUNK, 5);
      const id = await startOk(t.uploadUrl, 'boundary-inside.bin', data.length);
      const poisoned = Buffer.from(data.subarray(0, CHUNK));
      poisoned.write(`\r\n--${BOUNDARY}\r\nX-Garbage`, 1000, 'latin1');
      const answer = await sendRaw(t.baseUrl, putRaw(id, data.length, multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data: poisoned }])));
      assert.equal(answer.kind, 'answer', `an answer arrives (got ${JSON.stringify(answer)})`);
      if (answer.kind === 'answer') {
        assert.equal(answer.status, 400, answer.body);
        assert.ok(['MALFORMED_MULTIPART', 'CHUNK_SIZE_MISMATCH'].includes(String(answer.json?.code)), answer.body);
      }
      await assertNothingRecordedThenComplete(id, 'boundary-inside.bin', data);
    });

    it('a file part longer than its Content-Range answers 400 CHUNK_SIZE_MISMATCH (the oversize part is not silently truncated)', async () => {
      const data = testBytes(2 * CHUNK, 6);
      const id = await startOk(t.uploadUrl, 'oversize.bin', data.length);
      const answer = await sendRaw(
        t.baseUrl,
        putRaw(id, data.length, multipartBytes(BOUNDARY, [{ name: 'file', filename: 'c', data: data.subarray(0, CHUNK + 10) }])),
      );
      assertAnswer(answer, 400, 'CHUNK_SIZE_MISMATCH');
      await assertNothingRecordedThenComplete(id, 'oversize.bin', data);
    });

    it('a second file part after the chunk, and parts before it, leave the chunk stream whole: 200 and the exact bytes', async () => {
      const data = testBytes(2 * CHUNK, 7);
      const id = await startOk(t.uploadUrl, 'extra-parts.bin', data.length);
      const body = multipartBytes(BOUNDARY, [
        { name: 'note', data: 'a field first' },
        { name: 'thumbnail', filename: 't.png', data: testBytes(3000, 8) },
        { name: 'file', filename: 'c', data: data.subarray(0, CHUNK) },
        { name: 'file', filename: 'again', data: testBytes(5000, 9) },
        { name: 'after', data: 'a field after' },
      ]);
      const answer = await sendRaw(t.baseUrl, putRaw(id, data.length, body));
      assert.equal(answer.kind === 'answer' && answer.status, 200, JSON.stringify(answer));
      const put = await putChunk(t.uploadUrl, id, data.subarray(CHUNK), CHUNK, data.length);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, 'extra-parts.bin')), data);
    });
  });
}
