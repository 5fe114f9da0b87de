import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHashes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChunkUpload, type ChunkedUploadOptions } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError, postMultipart, postUrlencoded } from './support/frago-http';
import { FragoEventLog } from '../helpers/frago-event-log';

/** One app (and database) for the enclosing describe block. */
function useApp(kind: DatabaseKind, options: ChunkedUploadOptions = {}): { t: TestApp; events: FragoEventLog } {
  let db: TestDatabase;
  const state = {} as { t: TestApp; events: FragoEventLog };
  before(async () => {
    db = await createTestDatabase(kind);
    state.t = await createTestApp({ db, options, providers: [FragoEventLog] });
    state.events = state.t.app.get(FragoEventLog);
  });
  after(async () => {
    await state.t?.close();
    await db?.drop();
  });
  return state;
}

/** Starts an upload of `data` and sends the given [start, endExclusive) pieces of it. */
async function uploadPieces(url: string, filename: string, data: Buffer, pieces: Array<[number, number]>): Promise<string> {
  const id = await startOk(url, filename, data.length);
  for (const [start, end] of pieces) {
    const response = await putChunk(url, id, data.subarray(start, end), start, data.length);
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }
  return id;
}

/** Starts and fully uploads `data` in chunks of `chunkSize`, without finalizing. */
function uploadWhole(url: string, filename: string, data: Buffer, chunkSize = 4096): Promise<string> {
  return uploadPieces(
    url,
    filename,
    data,
    chunkRanges(data.length, chunkSize).map(({ start, end }) => [start, end]),
  );
}

for (const kind of databaseKinds()) {
  describe(`finalize (POST /upload/:id/) on ${kind}`, () => {
    const app = useApp(kind);

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

    it('answers 400 "Checksum required" when no checksum is sent', async () => {
      const data = testBytes(500, 4);
      const id = await uploadWhole(app.t.uploadUrl, 'nochecksum.bin', data);
      for (const body of [{}, { checksum_algo: 'md5' }, { checksum: '' }]) {
        const response = await finalize(app.t.uploadUrl, id, body);
        assert.equal(assertFragoError(response, 400, 'message', 'CHECKSUM_REQUIRED'), 'Checksum required');
      }
      assert.equal((await getStatus(app.t.uploadUrl, id)).body.status, 'in_progress');
    });

    it('answers 400 to an unsupported checksum algorithm', async () => {
      const data = testBytes(500, 5);
      const id = await uploadWhole(app.t.uploadUrl, 'algo.bin', data);
      for (const algo of ['nope', 'sha-256-but-wrong', 'md5; rm -rf /']) {
        const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: algo });
        assertFragoError(response, 400, 'message', 'UNSUPPORTED_ALGORITHM');
      }
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'sha512'), checksum_algo: 'SHA512' })).status, 201);
    });

    it('records every algorithm node:crypto supports, even the longest names (34 characters): 201 and the algorithm in the row', async () => {
      const longest = getHashes().filter((name) => name.length > 32);
      assert.ok(longest.includes('id-rsassa-pkcs1-v1_5-with-sha3-256'), JSON.stringify(longest));
      for (const algo of longest) {
        const data = testBytes(700, 8);
        const id = await uploadWhole(app.t.uploadUrl, 'long-algo.bin', data);
        const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data, algo), checksum_algo: algo });
        assert.equal(response.status, 201, `${algo}: ${JSON.stringify(response.body)}`);
        const row = await app.t.app.get(DataSource).getRepository(ChunkUpload).findOneByOrFail({ id });
        assert.equal(row.checksumAlgo, algo);
      }
    });

    it('answers a clear 400 to a checksum_algo longer than the column (65 characters), never 500', async () => {
      const data = testBytes(500, 9);
      const id = await uploadWhole(app.t.uploadUrl, 'too-long-algo.bin', data);
      const response = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: 'a'.repeat(65) });
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.match(String((response.body as { message?: unknown }).message), /checksum_algo is too long/);
      assert.equal((await getStatus(app.t.uploadUrl, id)).body.status, 'in_progress');
    });

    it('answers 400 "Checksum mismatch", emits checksum.failed once, publishes nothing, and the upload stays resumable', async () => {
      const data = testBytes(20_000, 6);
      const id = await uploadWhole(app.t.uploadUrl, 'mismatch.bin', data);
      const before = readdirSync(app.t.assembledDir);
      const response = await finalize(app.t.uploadUrl, id, { checksum: digest(testBytes(20_000, 7)), checksum_algo: 'md5' });
      assert.equal(assertFragoError(response, 400, 'message', 'CHECKSUM_MISMATCH'), 'Checksum mismatch');
      assert.equal(app.events.count(app.events.checksumFailed, id), 1, 'checksum.failed once');
      const failed = app.events.checksumFailed.find((event) => event.upload.id === id);
      assert.equal(failed?.algorithm, 'md5');
      assert.equal(failed?.actual, digest(data));
      assert.equal(app.events.count(app.events.completed, id), 0);
      assert.deepEqual(readdirSync(app.t.assembledDir), before, 'nothing appeared in the assembled folder');
      const status = await getStatus(app.t.uploadUrl, id);
      assert.equal(status.body.status, 'in_progress');
      assert.equal(status.body.received_bytes, data.length);
      assert.deepEqual(status.body.missing, []);
      // Resumable: a chunk can be sent again (as a duplicate) and a correct finalize completes it.
      const again = await putChunk(app.t.uploadUrl, id, data.subarray(0, 4096), 0, data.length);
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data), checksum_algo: 'md5' });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'mismatch.bin')), data);
      assert.equal(app.events.count(app.events.checksumFailed, id), 1, 'still only one checksum.failed');
      assert.equal(app.events.count(app.events.completed, id), 1);
    });

    it('answers 400 to a checksum that is not a hex digest', async () => {
      const data = testBytes(100, 8);
      const id = await uploadWhole(app.t.uploadUrl, 'nothex.bin', data);
      assertFragoError(await finalize(app.t.uploadUrl, id, { checksum: 'zz-not-hex-zz' }), 400, 'message');
      assertFragoError(await finalize(app.t.uploadUrl, id, { checksum: 12345 }), 400, 'message');
      assert.equal(app.events.count(app.events.checksumFailed, id), 0);
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

  describe(`finalize with checksumType 'sha256' on ${kind}`, () => {
    const app = useApp(kind, { checksumType: 'sha256' });

    it('answers 201 to a sha256 checksum sent without checksum_algo (it defaults to checksumType)', async () => {
      const data = testBytes(5000, 20);
      const id = await uploadWhole(app.t.uploadUrl, 'default-algo.bin', data);
      const md5 = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'md5') });
      assertFragoError(md5, 400, 'message', 'CHECKSUM_MISMATCH');
      assert.equal(app.events.checksumFailed.find((event) => event.upload.id === id)?.algorithm, 'sha256');
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'sha256') });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'default-algo.bin')), data);
    });

    it('still honours an explicit checksum_algo', async () => {
      const data = testBytes(5000, 21);
      const id = await uploadWhole(app.t.uploadUrl, 'explicit-algo.bin', data);
      const done = await finalize(app.t.uploadUrl, id, { checksum: digest(data, 'md5'), checksum_algo: 'md5' });
      assert.equal(done.status, 201, JSON.stringify(done.body));
    });
  });

  describe(`finalize with doChecksum false on ${kind}`, () => {
    const app = useApp(kind, { doChecksum: false });

    it('answers 201 without a checksum', async () => {
      const data = testBytes(7000, 30);
      const id = await uploadWhole(app.t.uploadUrl, 'unchecked.bin', data);
      const done = await finalize(app.t.uploadUrl, id, {});
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(app.t.assembledDir, 'unchecked.bin')), data);
      assert.equal(app.events.count(app.events.completed, id), 1);
    });

    it('still answers 400 "Not all chunks uploaded" to an incomplete upload', async () => {
      const data = testBytes(7000, 31);
      const id = await uploadPieces(app.t.uploadUrl, 'unchecked-gap.bin', data, [[0, 3000]]);
      const refused = await finalize(app.t.uploadUrl, id, {});
      assertFragoError(refused, 400, 'message', 'INCOMPLETE_UPLOAD');
      assert.deepEqual(refused.body.missing, [{ start: 3000, end: 6999 }]);
    });
  });
}
