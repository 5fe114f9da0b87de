import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk, startUpload, testBytes } from '../helpers/upload-client';
import { assertFragoError, assertNoLeak, postMultipart, postUrlencoded, request } from './support/frago-http';
import { FragoEventLog } from '../helpers/frago-event-log';
import { UPLOAD_ID_PATTERN } from 'nestjs-frago/dist/protocol/upload-id';

const MAX_UPLOAD = 1024 * 1024;

for (const kind of databaseKinds()) {
  describe(`start an upload (POST /upload/) on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let events: FragoEventLog;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { maxUploadSize: MAX_UPLOAD, maxChunkSize: 256 * 1024 }, providers: [FragoEventLog] });
      events = t.app.get(FragoEventLog);
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('answers 201 with status, upload_id and "Upload started for <filename>"', async () => {
      const response = await startUpload(t.uploadUrl, { filename: 'report.pdf', total_size: 1234 });
      assert.equal(response.status, 201);
      assert.deepEqual(Object.keys(response.body).sort(), ['message', 'status', 'upload_id']);
      assert.equal(response.body.status, true);
      assert.match(response.body.upload_id as string, UPLOAD_ID_PATTERN);
      assert.equal(response.body.upload_id, (response.body.upload_id as string).toLowerCase());
      assert.equal(response.body.message, 'Upload started for report.pdf');
      assert.equal(events.count(events.started, response.body.upload_id), 1, 'upload.started once');
      const status = await getStatus(t.uploadUrl, response.body.upload_id);
      assert.equal(status.body.filename, 'report.pdf');
      assert.equal(status.body.total_size, 1234);
      assert.equal(status.body.status, 'in_progress');
    });

    it('answers 201 to a urlencoded body (total_size as text)', async () => {
      const response = await postUrlencoded(`${t.uploadUrl}/`, { filename: 'form.txt', total_size: '77' });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.message, 'Upload started for form.txt');
      const status = await getStatus(t.uploadUrl, response.body.upload_id as string);
      assert.equal(status.body.total_size, 77);
    });

    it('answers 201 to a multipart body (as frago clients send)', async () => {
      const response = await postMultipart(`${t.uploadUrl}/`, { filename: 'multi part.bin', total_size: '4096' });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.message, 'Upload started for multi part.bin');
      const status = await getStatus(t.uploadUrl, response.body.upload_id as string);
      assert.equal(status.body.filename, 'multi part.bin');
      assert.equal(status.body.total_size, 4096);
    });

    it('accepts total_size given as a decimal string in JSON', async () => {
      const response = await startUpload(t.uploadUrl, { filename: 'str.bin', total_size: '10' });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal((await getStatus(t.uploadUrl, response.body.upload_id as string)).body.total_size, 10);
    });

    it('answers 400 when filename or total_size is missing, in JSON, urlencoded and multipart', async () => {
      assertFragoError(await startUpload(t.uploadUrl, { total_size: 10 }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await startUpload(t.uploadUrl, { filename: 'a.bin' }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await startUpload(t.uploadUrl, {}), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await postUrlencoded(`${t.uploadUrl}/`, { filename: 'a.bin' }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await postMultipart(`${t.uploadUrl}/`, { total_size: '10' }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await request(`${t.uploadUrl}/`, { method: 'POST' }), 400, 'message', 'INVALID_INPUT');
    });

    it('answers 400 when total_size is not a positive integer (0, -1, 1.5, "abc", "12abc", huge, null, true)', async () => {
      const bad: unknown[] = [0, -1, 1.5, 'abc', '12abc', '-5', '1.5', '', 1e30, '99999999999999999999', 2 ** 53, null, true, [10], { n: 1 }];
      for (const totalSize of bad) {
        const response = await startUpload(t.uploadUrl, { filename: 'bad-size.bin', total_size: totalSize });
        assertFragoError(response, 400, 'message', 'INVALID_INPUT');
      }
      for (const totalSize of ['0', '-1', 'abc', '12abc', '1e3']) {
        assertFragoError(await postUrlencoded(`${t.uploadUrl}/`, { filename: 'bad-size.bin', total_size: totalSize }), 400, 'message', 'INVALID_INPUT');
      }
    });

    it('answers 400 for an empty filename or one longer than 255 bytes (multi-byte characters count as bytes)', async () => {
      assertFragoError(await startUpload(t.uploadUrl, { filename: '', total_size: 10 }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await startUpload(t.uploadUrl, { filename: 'a'.repeat(256), total_size: 10 }), 400, 'message', 'INVALID_INPUT');
      // 128 characters, 256 bytes in UTF-8
      assertFragoError(await startUpload(t.uploadUrl, { filename: 'é'.repeat(128), total_size: 10 }), 400, 'message', 'INVALID_INPUT');
      // 64 characters, 256 bytes (4-byte emoji)
      assertFragoError(await startUpload(t.uploadUrl, { filename: '😀'.repeat(64), total_size: 10 }), 400, 'message', 'INVALID_INPUT');
      assertFragoError(await startUpload(t.uploadUrl, { filename: 12345, total_size: 10 }), 400, 'message', 'INVALID_INPUT');
    });

    it('accepts a filename of exactly 255 bytes, multi-byte included, and stores it as given', async () => {
      for (const filename of ['b'.repeat(255), `${'é'.repeat(127)}x`, `${'😀'.repeat(63)}abc`]) {
        assert.equal(Buffer.byteLength(filename), 255);
        const id = await startOk(t.uploadUrl, filename, 10);
        assert.equal((await getStatus(t.uploadUrl, id)).body.filename, filename);
      }
    });

    it('answers 400 for a filename of only dots and separators', async () => {
      for (const filename of ['.', '..', '...', '/', '//', './..', '../', '\\', '.\\..', ' ', ' . ']) {
        const response = await startUpload(t.uploadUrl, { filename, total_size: 10 });
        assertFragoError(response, 400, 'message', 'INVALID_INPUT');
      }
    });

    it('answers 400 for a filename holding NUL or a control character', async () => {
      for (const filename of ['a\u0000b.txt', 'line\nbreak.txt', 'tab\there.txt', 'cr\r.txt', 'bell\u0007.txt', 'del\u007f.txt', 'c1\u0085.txt']) {
        const response = await startUpload(t.uploadUrl, { filename, total_size: 10 });
        assertFragoError(response, 400, 'message', 'INVALID_INPUT');
      }
    });

    it('answers 413 above maxUploadSize and 201 at exactly maxUploadSize', async () => {
      const over = await startUpload(t.uploadUrl, { filename: 'big.bin', total_size: MAX_UPLOAD + 1 });
      assertFragoError(over, 413, 'message', 'UPLOAD_TOO_LARGE');
      const over2 = await postMultipart(`${t.uploadUrl}/`, { filename: 'big.bin', total_size: String(50 * 1024 ** 3) });
      assertFragoError(over2, 413, 'message', 'UPLOAD_TOO_LARGE');
      const exact = await startUpload(t.uploadUrl, { filename: 'max.bin', total_size: MAX_UPLOAD });
      assert.equal(exact.status, 201, JSON.stringify(exact.body));
    });

    it("answers 400 in frago's shape to a malformed JSON body", async () => {
      const response = await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filename": "x", ' });
      assertFragoError(response, 400, 'message');
      const array = await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '["x", 1]' });
      assertFragoError(array, 400, 'message');
    });

    it('stores a path-like filename as given but assembles it inside the assembled folder under a sanitised name', async () => {
      const data = testBytes(3000, 11);
      const filename = '../../etc/passwd';
      const id = await startOk(t.uploadUrl, filename, data.length);
      assert.equal((await getStatus(t.uploadUrl, id)).body.filename, filename);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.equal(done.body.message, `Upload completed for ${filename}`);
      assert.equal((await getStatus(t.uploadUrl, id)).body.filename, filename);
      // The only place the bytes may be is a plain file directly inside the assembled folder.
      assert.deepEqual(readFileSync(join(t.assembledDir, 'passwd')), data);
      const escaped = join(t.assembledDir, filename);
      assert.ok(!existsSync(escaped) || !readFileSync(escaped).equals(data), `bytes written outside: ${escaped}`);
      assert.equal(existsSync(join(t.dataDir, 'etc')), false);
      assert.equal(existsSync(join(t.assembledDir, '..', 'etc')), false);
      assert.deepEqual(readdirSync(t.dataDir).sort(), ['assembled', 'chunks']);
    });

    it('assembles names with backslashes, leading dots and odd characters under a safe name inside the folder', async () => {
      const cases: Array<[string, string]> = [
        ['..\\..\\windows\\evil.txt', 'evil.txt'],
        ['.hidden', 'hidden'],
        ['we<ird>|na:me?.txt', 'we_ird_na_me_.txt'],
      ];
      for (const [filename, expected] of cases) {
        const data = testBytes(100, filename.length);
        const id = await startOk(t.uploadUrl, filename, data.length);
        assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
        assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
        assert.equal((await getStatus(t.uploadUrl, id)).body.filename, filename);
        assert.deepEqual(readFileSync(join(t.assembledDir, expected)), data, `${filename} → ${expected}`);
      }
      for (const name of readdirSync(t.assembledDir)) {
        assert.doesNotMatch(name, /^\.|[\\/:<>|?*]/, `unsafe assembled name ${name}`);
      }
      assert.deepEqual(readdirSync(t.dataDir).sort(), ['assembled', 'chunks']);
    });

    it('never leaks a stack trace or a server path in an error body', async () => {
      const responses = [
        await startUpload(t.uploadUrl, { filename: 'a\u0000b', total_size: 1 }),
        await startUpload(t.uploadUrl, { filename: 'x', total_size: 'nope' }),
        await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
        await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nbroken' }),
        await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'no boundary' }),
      ];
      for (const response of responses) {
        assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${JSON.stringify(response.body)}`);
        assertFragoError(response, response.status, 'message');
        assertNoLeak(JSON.stringify(response.body));
      }
    });
  });
}
