import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { type TestApp, withTestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { deleteUpload, digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError } from './support/frago-http';
import { FragoEventLog } from '../helpers/frago-event-log';

for (const kind of databaseKinds()) {
  describe(`abort (DELETE /upload/:id/) on ${kind}`, () => {
    let t: TestApp;
    let events: FragoEventLog;

    withTestApp(kind, { providers: [FragoEventLog] }, (app) => {
      t = app;
      events = t.app.get(FragoEventLog);
    });

    /** Names in the chunk folder that belong to upload `id`. */
    function chunkFiles(id: string): string[] {
      return readdirSync(t.chunkDir).filter((name) => name.includes(id));
    }

    it('answers 204 with no body, then GET answers 404, the chunk data is gone and upload.deleted fires once', async () => {
      const data = testBytes(50_000, 1);
      const id = await startOk(t.uploadUrl, 'abort-me.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 20_000), 0, data.length)).status, 200);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(30_000), 30_000, data.length, { multipart: true })).status, 200);
      assert.ok(chunkFiles(id).length > 0, 'chunk data exists before the abort');
      const response = await fetch(`${t.uploadUrl}/${id}/`, { method: 'DELETE' });
      assert.equal(response.status, 204);
      assert.equal(await response.text(), '');
      assertFragoError(await getStatus(t.uploadUrl, id), 404, 'message', 'UPLOAD_NOT_FOUND');
      assert.deepEqual(chunkFiles(id), [], 'chunk data removed from the chunk folder');
      assert.equal(events.count(events.deleted, id), 1, 'upload.deleted once');
      const event = events.deleted.find((candidate) => candidate.upload.id === id);
      assert.equal(event?.upload.filename, 'abort-me.bin');
      assert.equal(event?.upload.totalSize, data.length);
    });

    it('answers 204 to an abort of an upload with no chunk', async () => {
      const id = await startOk(t.uploadUrl, 'empty-abort.bin', 10);
      assert.equal((await deleteUpload(t.uploadUrl, id)).status, 204);
      assertFragoError(await getStatus(t.uploadUrl, id), 404, 'message', 'UPLOAD_NOT_FOUND');
      assert.deepEqual(chunkFiles(id), []);
      assert.equal(events.count(events.deleted, id), 1);
    });

    it('answers 404 with the "message" key to DELETE of an unknown UUID, a non-UUID, or an upload already deleted', async () => {
      assertFragoError(await deleteUpload(t.uploadUrl, randomUUID()), 404, 'message', 'UPLOAD_NOT_FOUND');
      assertFragoError(await deleteUpload(t.uploadUrl, 'not-a-uuid'), 404, 'message', 'UPLOAD_NOT_FOUND');
      const id = await startOk(t.uploadUrl, 'twice.bin', 10);
      assert.equal((await deleteUpload(t.uploadUrl, id)).status, 204);
      assertFragoError(await deleteUpload(t.uploadUrl, id), 404, 'message', 'UPLOAD_NOT_FOUND');
      assert.equal(events.count(events.deleted, id), 1, 'upload.deleted only for the real deletion');
    });

    it('answers 404 to a PUT or a finalize after the upload was deleted, and stores nothing', async () => {
      const data = testBytes(1000, 2);
      const id = await startOk(t.uploadUrl, 'gone.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 500), 0, data.length)).status, 200);
      assert.equal((await deleteUpload(t.uploadUrl, id)).status, 204);
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(500), 500, data.length), 404, 'error', 'UPLOAD_NOT_FOUND');
      assertFragoError(await putChunk(t.uploadUrl, id, data.subarray(0, 500), 0, data.length, { multipart: true }), 404, 'error', 'UPLOAD_NOT_FOUND');
      assertFragoError(await finalize(t.uploadUrl, id, { checksum: digest(data) }), 404, 'message', 'UPLOAD_NOT_FOUND');
      assert.deepEqual(chunkFiles(id), [], 'no data recreated by the late PUT');
      assert.ok(!existsSync(join(t.assembledDir, 'gone.bin')));
    });

    it('leaves the other uploads untouched', async () => {
      const data = testBytes(3000, 3);
      const keep = await startOk(t.uploadUrl, 'keep.bin', data.length);
      const drop = await startOk(t.uploadUrl, 'drop.bin', data.length);
      for (const id of [keep, drop]) assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 1000), 0, data.length)).status, 200);
      assert.equal((await deleteUpload(t.uploadUrl, drop)).status, 204);
      const status = await getStatus(t.uploadUrl, keep);
      assert.equal(status.status, 200);
      assert.deepEqual(status.body.chunks, [{ start: 0, end: 999, size: 1000 }]);
      assert.equal((await putChunk(t.uploadUrl, keep, data.subarray(1000), 1000, data.length)).status, 200);
      assert.equal((await finalize(t.uploadUrl, keep, { checksum: digest(data) })).status, 201);
      assert.equal(events.count(events.deleted, keep), 0);
    });
  });
}
