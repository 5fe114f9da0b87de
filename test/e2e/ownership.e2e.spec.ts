import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ChunkUpload } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { deleteUpload, digest, finalize, getStatus, type JsonResponse, putChunk, startOk, startUpload, testBytes } from '../helpers/upload-client';

const ALICE = { 'x-user': 'alice' };
const BOB = { 'x-user': 'bob' };

/** The four `:id` operations, each as one call with the caller's headers. */
function idOperations(url: string, data: Buffer): Array<{ name: string; call: (id: string, headers: Record<string, string>) => Promise<JsonResponse> }> {
  return [
    { name: 'GET', call: (id, headers) => getStatus(url, id, headers) },
    { name: 'PUT', call: (id, headers) => putChunk(url, id, data.subarray(0, 1000), 0, data.length, { headers }) },
    { name: 'POST finalize', call: (id, headers) => finalize(url, id, { checksum: digest(data) }, headers) },
    { name: 'DELETE', call: (id, headers) => deleteUpload(url, id, headers) },
  ];
}

/** What a client can observe of an answer: status and body (the error text and key included). */
function observable(response: JsonResponse): { status: number; body: unknown } {
  return { status: response.status, body: response.body };
}

for (const kind of databaseKinds()) {
  describe(`ownership in user mode on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const data = testBytes(3000, 11);

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, options: { identifierMode: 'user' } });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it("answers 404 to every :id operation on another user's upload, exactly as for an unknown id", async () => {
      const id = await startOk(t.uploadUrl, 'alice.bin', data.length, ALICE);
      for (const operation of idOperations(t.uploadUrl, data)) {
        const foreign = await operation.call(id, BOB);
        const unknown = await operation.call(randomUUID(), BOB);
        assert.equal(foreign.status, 404, `${operation.name}: ${JSON.stringify(foreign.body)}`);
        assert.deepEqual(observable(foreign), observable(unknown), operation.name);
        assert.equal((foreign.body as { status: unknown }).status, false);
      }
      // Nothing bob did touched alice's upload.
      const status = await getStatus(t.uploadUrl, id, ALICE);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'in_progress');
      assert.deepEqual(status.body.chunks, []);
    });

    it('answers 401 on every route without an authenticated user', async () => {
      const id = await startOk(t.uploadUrl, 'anon-target.bin', data.length, ALICE);
      const answers: Array<[string, JsonResponse]> = [
        ['POST /', await startUpload(t.uploadUrl, { filename: 'x.bin', total_size: 10 })],
        ['GET /', await listUploads(t.uploadUrl, {})],
        ...(await Promise.all(idOperations(t.uploadUrl, data).map(async (op): Promise<[string, JsonResponse]> => [op.name, await op.call(id, {})]))),
      ];
      for (const [name, answer] of answers) {
        assert.equal(answer.status, 401, `${name}: ${JSON.stringify(answer.body)}`);
        assert.equal((answer.body as { status: unknown }).status, false, name);
      }
      assert.equal((await getStatus(t.uploadUrl, id, ALICE)).body.status, 'in_progress');
    });

    it('compares identifiers byte for byte: ids differing from the owner only by case, accents or a trailing space see, change and delete nothing (404, not listed)', async () => {
      const owner = { 'x-user-uri': encodeURIComponent('alice') };
      const id = await startOk(t.uploadUrl, 'exact.bin', data.length, owner);
      for (const other of ['ALICE', 'Alice', 'alicé', 'alice ', 'alice\u00a0', 'ａlice']) {
        const headers = { 'x-user-uri': encodeURIComponent(other) };
        const listed = await listUploads(t.uploadUrl, headers);
        assert.equal(listed.status, 200);
        assert.ok(!(listed.body as unknown as Array<{ upload_id: string }>).some((entry) => entry.upload_id === id), `${JSON.stringify(other)} lists it`);
        for (const operation of idOperations(t.uploadUrl, data)) {
          const answer = await operation.call(id, headers);
          assert.equal(answer.status, 404, `${operation.name} as ${JSON.stringify(other)}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
      const status = await getStatus(t.uploadUrl, id, owner);
      assert.equal(status.status, 200);
      assert.equal(status.body.received_bytes, 0, 'no chunk was written by another id');
      assert.equal((await deleteUpload(t.uploadUrl, id, owner)).status, 204);
    });

    it('lets the owner start, send chunks, read status, list, finalize and delete (201/200/201/204)', async () => {
      const id = await startOk(t.uploadUrl, 'owned.bin', data.length, ALICE);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 1000), 0, data.length, { headers: ALICE })).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(1000), 1000, data.length, { headers: ALICE, multipart: true })).status, 200);
      const status = await getStatus(t.uploadUrl, id, ALICE);
      assert.equal(status.status, 200);
      assert.equal(status.body.received_bytes, data.length);
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) }, ALICE);
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, 'owned.bin')), data);
      const list = await listUploads(t.uploadUrl, ALICE);
      assert.equal(list.status, 200);
      assert.ok((list.body as unknown as Array<{ upload_id: string }>).some((entry) => entry.upload_id === id));

      const other = await startOk(t.uploadUrl, 'to-delete.bin', data.length, ALICE);
      assert.equal((await deleteUpload(t.uploadUrl, other, ALICE)).status, 204);
      assert.equal((await getStatus(t.uploadUrl, other, ALICE)).status, 404);
    });

    it("lists only the caller's uploads (200)", async () => {
      const mine = await startOk(t.uploadUrl, 'carol.bin', 10, { 'x-user': 'carol' });
      await startOk(t.uploadUrl, 'dave.bin', 10, { 'x-user': 'dave' });
      const list = await listUploads(t.uploadUrl, { 'x-user': 'carol' });
      assert.equal(list.status, 200);
      assert.deepEqual(
        (list.body as unknown as Array<{ upload_id: string }>).map((entry) => entry.upload_id),
        [mine],
      );
    });

    it("stores the user's id in the upload's identifier column", async () => {
      const id = await startOk(t.uploadUrl, 'column.bin', 10, { 'x-user': 'user-42' });
      const row = await t.app.get(DataSource).getRepository(ChunkUpload).findOneByOrFail({ id });
      assert.equal(row.identifier, 'user-42');
    });
  });
}

/** `GET /upload/` with the caller's headers. */
async function listUploads(url: string, headers: Record<string, string>): Promise<JsonResponse> {
  const response = await fetch(`${url}/`, { headers });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown>, headers: response.headers };
}
