/**
 * One ledger: an upload goes the same way whichever protocol
 * removes it. A frago `DELETE /upload/<uuid>/` of a tus upload removes its
 * `frago_tus_upload` row as well as its upload row, chunk rows and data; a
 * tus `DELETE` removes exactly what a frago `DELETE` does (also of an upload
 * frago started); an expired tus upload loses its tus row; and the expiry
 * sweeper drops tus rows that outlived their upload (a crash between the two
 * deletes). Time is driven, not waited for: an upload is moved past its
 * expiry by setting its stored expiry time in the past.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk, ChunkUpload, ExpiryService, FragoTusUpload } from 'nestjs-frago';
import type { TestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { deleteUpload, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { FragoEventLog } from '../helpers/frago-event-log';
import { tusSuite } from './support/tus-app';
import { createTus, headTus, metadata, patchTus, TUS } from './support/tus-http';

for (const kind of databaseKinds()) {
  describe(`tus and frago remove the same things on ${kind}`, () => {
    const suite = tusSuite(kind, { expiration: 60 * 60 * 1000, cleanupInterval: 0 });
    let t: TestApp;
    let files: string;
    let events: FragoEventLog;
    before(() => ({ t, files, events } = suite));

    const data = testBytes(4000, 23);
    const tusRow = (id: string): Promise<FragoTusUpload | null> => t.app.get(DataSource).getRepository(FragoTusUpload).findOneBy({ uploadId: id });
    const uploadRow = (id: string): Promise<ChunkUpload | null> => t.app.get(DataSource).getRepository(ChunkUpload).findOneBy({ id });
    const chunkRows = (id: string): Promise<number> => t.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id });
    const dataFile = (id: string): string => join(t.chunkDir, `${id}.part`);

    /** A tus upload with its first half stored. */
    async function halfTus(name: string, extra: Record<string, string> = {}): Promise<{ url: string; id: string }> {
      const { response, url, id } = await createTus(`${files}/`, {
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: name }),
        ...extra,
      });
      assert.equal(response.status, 201);
      assert.equal((await patchTus(url, 0, data.subarray(0, 1000))).status, 204);
      assert.ok(await tusRow(id), 'the tus row exists while the upload does');
      assert.ok(existsSync(dataFile(id)));
      return { url, id };
    }

    /** Nothing of upload `id` is left: no upload, chunk or tus row, no data file; both protocols answer 404. */
    async function assertGone(id: string, url: string): Promise<void> {
      assert.equal(await uploadRow(id), null, 'upload row removed');
      assert.equal(await chunkRows(id), 0, 'chunk rows removed');
      assert.equal(await tusRow(id), null, 'tus row removed');
      assert.equal(existsSync(dataFile(id)), false, 'data file removed');
      assert.equal((await getStatus(t.uploadUrl, id)).status, 404);
      assert.equal((await headTus(url)).status, 404);
      assert.equal(events.count(events.deleted, id), 1, 'upload.deleted once');
    }

    it('a frago DELETE of a tus upload removes its tus row with the rest', async () => {
      const { url, id } = await halfTus('frago-deletes-tus.bin');
      const answer = await deleteUpload(t.uploadUrl, id);
      assert.equal(answer.status, 204, JSON.stringify(answer.body));
      await assertGone(id, url);
    });

    it('a tus DELETE removes what a frago DELETE does, of a tus upload and of an upload frago started', async () => {
      const { url, id } = await halfTus('tus-deletes-tus.bin');
      assert.equal((await fetch(url, { method: 'DELETE', headers: TUS })).status, 204);
      await assertGone(id, url);

      const fragoId = await startOk(t.uploadUrl, 'tus-deletes-frago.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, fragoId, data.subarray(0, 1000), 0, data.length)).status, 200);
      const fragoUrl = `${files}/${fragoId}`;
      assert.equal((await fetch(fragoUrl, { method: 'DELETE', headers: TUS })).status, 204);
      await assertGone(fragoId, fragoUrl);
    });

    it('an expired tus upload (plain and partial) loses its tus row; HEAD answers 410 and upload.expired fires once', async () => {
      const plain = await halfTus('expires.bin');
      const partial = await halfTus('expires-partial.bin', { 'upload-concat': 'partial' });
      for (const { id } of [plain, partial]) {
        const moved = await t.app
          .get(DataSource)
          .getRepository(ChunkUpload)
          .update({ id }, { expiresAt: new Date(Date.now() - 1000) });
        assert.equal(moved.affected, 1);
      }
      await t.app.get(ExpiryService).sweepExpired();
      for (const { id, url } of [plain, partial]) {
        assert.equal((await uploadRow(id))?.status, 'expired');
        assert.equal(await tusRow(id), null, 'tus row removed on expiry');
        assert.equal(existsSync(dataFile(id)), false);
        assert.equal((await headTus(url)).status, 410);
        assert.equal(events.count(events.expired, id), 1, 'upload.expired once');
      }
    });

    it('the expiry sweeper drops tus rows whose upload is gone, and keeps those of live and complete uploads', async () => {
      const rows = t.app.get(DataSource).getRepository(FragoTusUpload);
      const orphan = randomUUID();
      await rows.insert({ uploadId: orphan, metadata: null, lengthDeferred: false, concat: null, parts: null, finalId: null });
      const live = await halfTus('sweep-live.bin');
      const {
        response,
        url,
        id: complete,
      } = await createTus(`${files}/`, { 'upload-length': String(data.length), 'upload-metadata': metadata({ filename: 'sweep-complete.bin' }) });
      assert.equal(response.status, 201);
      assert.equal((await patchTus(url, 0, data)).status, 204);
      assert.equal((await uploadRow(complete))?.status, 'complete');

      await t.app.get(ExpiryService).sweepExpired();
      assert.equal(await rows.findOneBy({ uploadId: orphan }), null, 'the orphaned tus row is dropped');
      assert.ok(await tusRow(live.id), 'a live upload keeps its tus row');
      assert.ok(await tusRow(complete), 'a complete upload keeps its tus row (HEAD echoes its metadata)');
      assert.equal((await headTus(url)).headers.get('upload-metadata'), metadata({ filename: 'sweep-complete.bin' }));
    });
  });
}
