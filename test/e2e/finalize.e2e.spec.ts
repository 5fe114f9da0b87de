/** POST /upload/:id/ (finalize): completion, missing ranges, idempotence, file names, form bodies and unknown ids (checksums are in finalize-checksum.e2e.spec.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, testBytes } from '../helpers/upload-client';
import { assertFragoError, postMultipart, postUrlencoded } from './support/frago-http';
import { uploadPieces, uploadWhole } from './support/upload-steps';
import { useTestApp } from './support/use-test-app';

for (const kind of databaseKinds()) {
  describe(`finalize (POST /upload/:id/) on ${kind}`, () => {
    const app = useTestApp(kind);

    it('answers 201 with status, upload_id and "Upload completed for <filename>", and publishes the bytes', async () => {
      const data = testBytes(10_000, 1);
      const id = await uploadWhole(app.t.uploadUrl, 'done.bin', data);
      const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: 'md5' });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.deepEqual(response.body, { status: true, upload_id: id, message: 'Upload completed for done.bin' });
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'done.bin')), data);
      assert.equal(app.events.count(app.events.completed, id), 1, 'upload.completed once');
      const status = await getStatus(app.t.uploadUrl, id);
      assert.equal(status.body.status, 'complete');
    });

    it('answers 400 "Not all chunks uploaded" listing the missing ranges (gap at the start, middle, end, several, none sent)', async () => {
      const data = testBytes(300, 2);
      const cases: Array<{ pieces: Array<[number, number]>; missing: Array<{ start: number; end: number }> }> = [
        { pieces: [[100, 300]], missing: [{ start: 0, end: 99 }] },
        {
          pieces: [
            [0, 100],
            [200, 300],
          ],
          missing: [{ start: 100, end: 199 }],
        },
        { pieces: [[0, 200]], missing: [{ start: 200, end: 299 }] },
        {
          pieces: [
            [50, 100],
            [150, 200],
            [250, 299],
          ],
          missing: [
            { start: 0, end: 49 },
            { start: 100, end: 149 },
            { start: 200, end: 249 },
            { start: 299, end: 299 },
          ],
        },
        { pieces: [], missing: [{ start: 0, end: 299 }] },
      ];
      for (const { pieces, missing } of cases) {
        const id = await uploadPieces(app.t.uploadUrl, 'gaps.bin', data, pieces);
        const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
        const text = assertFragoError(response, 400, 'message', 'INCOMPLETE_UPLOAD');
        assert.equal(text, 'Not all chunks uploaded');
        assert.deepEqual(response.body.missing, missing, JSON.stringify(pieces));
        assert.deepEqual((await getStatus(app.t.uploadUrl, id)).body.missing, missing, 'GET reports the same gaps');
        assert.equal((await getStatus(app.t.uploadUrl, id)).body.status, 'in_progress');
      }
      assert.ok(!readdirSync(app.t.assembledDir).includes('gaps.bin'), 'nothing published');
    });

    it('reports a single missing byte between chunks (coverage, not a sum of sizes)', async () => {
      const data = testBytes(301, 3);
      const id = await uploadPieces(app.t.uploadUrl, 'onebyte.bin', data, [
        [0, 100],
        [101, 301],
      ]);
      const refused = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assertFragoError(refused, 400, 'message', 'INCOMPLETE_UPLOAD');
      assert.deepEqual(refused.body.missing, [{ start: 100, end: 100 }]);
      // A refused overlapping chunk does not count either.
      assertFragoError(await putChunk(app.t.uploadUrl, id, data.subarray(99, 101), 99, data.length), 409, 'error', 'CHUNK_OVERLAP');
      assert.deepEqual((await finalize(app.t.uploadUrl, id, { checksum: digest(data) })).body.missing, [{ start: 100, end: 100 }]);
      assert.equal((await putChunk(app.t.uploadUrl, id, data.subarray(100, 101), 100, data.length)).status, 200);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'onebyte.bin')), data);
    });

    it('answers the same 201 to a finalize of a completed upload (idempotent), without a second upload.completed', async () => {
      const data = testBytes(3000, 9);
      const id = await uploadWhole(app.t.uploadUrl, 'twice.bin', data);
      const first = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(first.status, 201);
      const second = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.deepEqual(
        readdirSync(app.t.assembledDir).filter((name) => name.startsWith('twice')),
        ['twice.bin'],
        'published once',
      );
      assert.equal(app.events.count(app.events.completed, id), 1);
    });

    it('never overwrites an existing file of the same name: the upload gets a numbered name', async () => {
      writeFileSync(join(app.t.assembledDir, 'taken.txt'), 'original content');
      writeFileSync(join(app.t.assembledDir, 'taken-1.txt'), 'also taken');
      const data = testBytes(1500, 10);
      const id = await uploadWhole(app.t.uploadUrl, 'taken.txt', data);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.equal(done.body.message, 'Upload completed for taken.txt');
      assert.equal(readFileSync(join(app.t.assembledDir, 'taken.txt'), 'utf8'), 'original content');
      assert.equal(readFileSync(join(app.t.assembledDir, 'taken-1.txt'), 'utf8'), 'also taken');
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'taken-2.txt')), data);
      assert.equal((await getStatus(app.t.uploadUrl, id)).body.filename, 'taken.txt', 'the client name is kept');
    });

    it('keeps both files when two uploads share a filename', async () => {
      const a = testBytes(2000, 11);
      const b = testBytes(2500, 12);
      const idA = await uploadWhole(app.t.uploadUrl, 'same.bin', a);
      const idB = await uploadWhole(app.t.uploadUrl, 'same.bin', b);
      assert.equal((await finalize(app.t.uploadUrl, idA, { checksum: digest(a) })).status, 201);
      assert.equal((await finalize(app.t.uploadUrl, idB, { checksum: digest(b) })).status, 201);
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'same.bin')), a);
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'same-1.bin')), b);
    });

    it('answers 201 to urlencoded and multipart finalize bodies', async () => {
      const a = testBytes(1234, 13);
      const idA = await uploadWhole(app.t.uploadUrl, 'form-url.bin', a);
      const urlencoded = await postUrlencoded(`${app.t.uploadUrl}/${idA}/`, { checksum: digest(a, 'sha256'), checksum_algo: 'sha256' });
      assert.equal(urlencoded.status, 201, JSON.stringify(urlencoded.body));
      assert.equal(urlencoded.body.message, 'Upload completed for form-url.bin');
      const b = testBytes(4321, 14);
      const idB = await uploadWhole(app.t.uploadUrl, 'form-multi.bin', b);
      const multipart = await postMultipart(`${app.t.uploadUrl}/${idB}/`, { checksum: digest(b) });
      assert.equal(multipart.status, 201, JSON.stringify(multipart.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'form-url.bin')), a);
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'form-multi.bin')), b);
      // And a refusal through form data has frago's shape too.
      const c = testBytes(10, 15);
      const idC = await uploadWhole(app.t.uploadUrl, 'form-bad.bin', c);
      assertFragoError(await postMultipart(`${app.t.uploadUrl}/${idC}/`, { checksum_algo: 'md5' }), 400, 'message', 'CHECKSUM_REQUIRED');
    });

    it('answers 404 with the "message" key for an unknown UUID and for an id that is not a UUID', async () => {
      assertFragoError(await finalize(app.t.uploadUrl, randomUUID(), { checksum: digest(Buffer.from('x')) }), 404, 'message', 'UPLOAD_NOT_FOUND');
      assertFragoError(await finalize(app.t.uploadUrl, 'not-a-uuid', { checksum: digest(Buffer.from('x')) }), 404, 'message', 'UPLOAD_NOT_FOUND');
    });
  });
}
