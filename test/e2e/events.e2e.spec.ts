import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import {
  ChecksumFailedEvent,
  ChunkReceivedEvent,
  ChunkUpload,
  ExpiryService,
  FragoEvents,
  UploadCompletedEvent,
  UploadDeletedEvent,
  UploadExpiredEvent,
  UploadStartedEvent,
} from 'nestjs-frago';
import { createTestApp, type TestApp, withTestApp } from '../helpers/create-test-app';
import { FragoEventLog } from '../helpers/frago-event-log';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { chunkRanges, deleteUpload, digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

/** Listeners that fail in every way a host's listener can: thrown, rejected, with and without Nest's error suppression. */
@Injectable()
class FailingListeners {
  @OnEvent(FragoEvents.UploadStarted)
  throwsOnStart(): void {
    throw new Error('listener failure on start (expected in this test)');
  }

  @OnEvent(FragoEvents.ChunkReceived, { suppressErrors: false })
  async rejectsOnChunk(): Promise<void> {
    throw new Error('listener rejection on chunk (expected in this test)');
  }

  @OnEvent(FragoEvents.UploadCompleted, { suppressErrors: false })
  throwsOnComplete(): void {
    throw new Error('listener failure on complete (expected in this test)');
  }
}

/** Stores every chunk of `data` (sequentially) and checks each answers 200. */
async function storeAll(url: string, id: string, data: Buffer, chunkSize: number): Promise<void> {
  for (const { start, end } of chunkRanges(data.length, chunkSize)) {
    const answer = await putChunk(url, id, data.subarray(start, end), start, data.length);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
}

for (const kind of databaseKinds()) {
  describe(`events on ${kind}`, () => {
    let t: TestApp;
    let events: FragoEventLog;

    withTestApp(kind, { providers: [FragoEventLog] }, (app) => {
      t = app;
      events = t.app.get(FragoEventLog);
    });

    it('upload.started fires once per start, with the upload entity, for 20 concurrent starts', async () => {
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => startOk(t.uploadUrl, `s${i}.bin`, 100 + i)));
      for (const [i, id] of ids.entries()) {
        const received = events.of(events.started, id);
        assert.equal(received.length, 1, `upload ${i}`);
        assert.ok(received[0] instanceof UploadStartedEvent);
        assert.ok(received[0].upload instanceof ChunkUpload);
        assert.equal(received[0].upload.filename, `s${i}.bin`);
        assert.equal(received[0].upload.totalSize, 100 + i);
        assert.equal(received[0].upload.status, 'in_progress');
      }
    });

    it('chunk.received fires once per stored chunk under parallel out-of-order PUTs, never for the duplicate twins', async () => {
      const data = testBytes(24 * 10_007, 21);
      const id = await startOk(t.uploadUrl, 'parallel.bin', data.length);
      const ranges = chunkRanges(data.length, 10_007).reverse();
      // Every chunk is sent twice at once: one is stored, its twin answers "duplicate".
      const answers = await Promise.all(
        [...ranges, ...ranges].map(({ start, end }, i) => putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: i % 3 === 0 })),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        answers.map(() => 200),
      );
      assert.equal(answers.filter((a) => a.body.duplicate === true).length, ranges.length);
      const received = events.of(events.chunks, id);
      assert.equal(received.length, ranges.length);
      assert.deepEqual(
        received.map((e) => [e.start, e.end, e.size]).sort((a, b) => a[0] - b[0]),
        ranges.map(({ start, end }) => [start, end - 1, end - start]).sort((a, b) => a[0] - b[0]),
      );
      assert.ok(received.every((e) => e instanceof ChunkReceivedEvent && e.upload instanceof ChunkUpload && e.upload.id === id));
      // A later resend is a duplicate too, and emits nothing.
      const again = await putChunk(t.uploadUrl, id, data.subarray(0, 10_007), 0, data.length);
      assert.equal(again.body.duplicate, true);
      assert.equal(events.of(events.chunks, id).length, ranges.length);
    });

    it('chunk.received does not fire for refused chunks (409 overlap, 400 digest or size mismatch, 409 complete)', async () => {
      const data = testBytes(4000, 22);
      const id = await startOk(t.uploadUrl, 'refused.bin', data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 1000), 0, data.length)).status, 200);
      const overlap = await putChunk(t.uploadUrl, id, data.subarray(500, 1500), 500, data.length);
      assert.equal(overlap.status, 409);
      const wrongDigest = await putChunk(t.uploadUrl, id, data.subarray(1000, 2000), 1000, data.length, {
        headers: { 'content-digest': `sha-256=:${createHash('sha256').update('other bytes').digest('base64')}:` },
      });
      assert.equal(wrongDigest.status, 400);
      const short = await putChunk(t.uploadUrl, id, data.subarray(1000, 1900), 1000, data.length, {
        multipart: true,
        contentRange: `bytes 1000-1999/${data.length}`,
      });
      assert.equal(short.status, 400);
      assert.equal(events.of(events.chunks, id).length, 1);

      await putChunk(t.uploadUrl, id, data.subarray(1000), 1000, data.length);
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
      const afterComplete = await putChunk(t.uploadUrl, id, data.subarray(0, 10), 0, data.length);
      assert.equal(afterComplete.status, 409);
      assert.equal(events.of(events.chunks, id).length, 2);
    });

    it('upload.completed fires once, after the file is published at its location, for 16 concurrent finalizes', async () => {
      const data = testBytes(300_000, 23);
      const id = await startOk(t.uploadUrl, 'done.bin', data.length);
      await storeAll(t.uploadUrl, id, data, 100_000);
      const answers = await Promise.all(Array.from({ length: 16 }, () => finalize(t.uploadUrl, id, { checksum: digest(data) })));
      assert.ok(
        answers.every((a) => a.status === 201 || a.status === 409),
        JSON.stringify(answers.map((a) => a.body)),
      );
      assert.equal((await finalize(t.uploadUrl, id, { checksum: digest(data) })).status, 201);
      const completed = events.of(events.completed, id);
      assert.equal(completed.length, 1);
      const [event] = completed;
      assert.ok(event instanceof UploadCompletedEvent);
      assert.ok(event.upload instanceof ChunkUpload);
      assert.equal(event.upload.status, 'complete');
      assert.equal(event.location, join(t.assembledDir, 'done.bin'));
      assert.equal(events.fileExistedOnCompletion.get(event), true, 'the file existed when the event fired');
      assert.deepEqual(readFileSync(event.location), data);
    });

    it('checksum.failed fires once per refused finalize (400 Checksum mismatch), also when they race', async () => {
      const data = testBytes(50_000, 24);
      const id = await startOk(t.uploadUrl, 'bad-sum.bin', data.length);
      await storeAll(t.uploadUrl, id, data, 25_000);
      const wrong = digest(Buffer.from('not the data'));
      const single = await finalize(t.uploadUrl, id, { checksum: wrong });
      assert.equal(single.status, 400);
      assert.equal(single.body.message, 'Checksum mismatch');
      const failed = events.of(events.checksumFailed, id);
      assert.equal(failed.length, 1);
      assert.ok(failed[0] instanceof ChecksumFailedEvent);
      assert.equal(failed[0].algorithm, 'md5');
      assert.equal(failed[0].expected, wrong);
      assert.equal(failed[0].actual, digest(data));

      const racing = await Promise.all(Array.from({ length: 8 }, () => finalize(t.uploadUrl, id, { checksum: wrong })));
      const mismatches = racing.filter((a) => a.status === 400 && a.body.message === 'Checksum mismatch').length;
      assert.ok(
        racing.every((a) => a.status === 400 || a.status === 409),
        JSON.stringify(racing.map((a) => a.body)),
      );
      assert.equal(events.of(events.checksumFailed, id).length, 1 + mismatches);
      // Still resumable, and nothing completed.
      assert.equal((await getStatus(t.uploadUrl, id)).body.status, 'in_progress');
      assert.equal(events.of(events.completed, id).length, 0);
    });

    it('upload.expired fires once per expired upload, even with concurrent sweeps', async () => {
      const id = await startOk(t.uploadUrl, 'old.bin', 100);
      await t.app
        .get(DataSource)
        .getRepository(ChunkUpload)
        .update({ id }, { expiresAt: new Date(Date.now() - 1000) });
      const expiry = t.app.get(ExpiryService);
      await Promise.all([expiry.sweepExpired(), expiry.sweepExpired(), expiry.sweepExpired()]);
      await expiry.sweepExpired();
      const expired = events.of(events.expired, id);
      assert.equal(expired.length, 1);
      assert.ok(expired[0] instanceof UploadExpiredEvent);
      assert.ok(expired[0].upload instanceof ChunkUpload);
      assert.equal(expired[0].upload.status, 'expired');
    });

    it('upload.deleted fires once for 8 concurrent DELETEs (one 204, the rest 404)', async () => {
      const id = await startOk(t.uploadUrl, 'bye.bin', 100);
      const answers = await Promise.all(Array.from({ length: 8 }, () => deleteUpload(t.uploadUrl, id)));
      assert.deepEqual(answers.map((a) => a.status).sort(), [204, 404, 404, 404, 404, 404, 404, 404]);
      const deleted = events.of(events.deleted, id);
      assert.equal(deleted.length, 1);
      assert.ok(deleted[0] instanceof UploadDeletedEvent);
      assert.ok(deleted[0].upload instanceof ChunkUpload);
      assert.equal(deleted[0].upload.filename, 'bye.bin');
    });
  });

  describe(`a failing listener on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let events: FragoEventLog;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };

    before(async () => {
      process.on('unhandledRejection', onRejection);
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, providers: [FailingListeners, FragoEventLog], expectedErrors: [/expected in this test/] });
      events = t.app.get(FragoEventLog);
    });
    after(async () => {
      process.off('unhandledRejection', onRejection);
      await t?.close();
      await db?.drop();
    });

    it('does not fail the request, nor keep other listeners from their event (201/200/201)', async () => {
      const data = testBytes(20_000, 25);
      const id = await startOk(t.uploadUrl, 'robust.bin', data.length);
      await storeAll(t.uploadUrl, id, data, 10_000);
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, 'robust.bin')), data);
      assert.equal(events.of(events.started, id).length, 1);
      assert.equal(events.of(events.chunks, id).length, 2);
      assert.equal(events.of(events.completed, id).length, 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(rejections, [], 'no unhandled rejection escaped from a listener');
    });
  });
}
