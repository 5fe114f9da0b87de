import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { type TestApp, withTestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

const WAIT_LIMIT_MS = 10_000;
const CHUNK = 256 * 1024;
const BOUNDARY = 'frago-test-boundary';

/** Polls `check` until it returns true; fails after {@link WAIT_LIMIT_MS}. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A chunk PUT as exact bytes on the wire: head, then a body of `bodyLength` bytes. */
function requestHead(t: TestApp, id: string, range: string, contentType: string, bodyLength: number): Buffer {
  const url = new URL(`${t.uploadUrl}/${id}/`);
  return Buffer.from(
    `PUT ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${bodyLength}\r\nContent-Range: ${range}\r\nConnection: close\r\n\r\n`,
  );
}

/** The multipart body frago clients send: the chunk as the `file` part. */
function multipartBody(bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** Opens a connection to the app and writes `bytes`; the socket stays open until destroyed. */
async function sendPartial(t: TestApp, bytes: Buffer): Promise<Socket> {
  const { port } = new URL(t.baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', (data) => assert.fail(`no answer was expected before the body ended: ${data.toString()}`));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  await new Promise<void>((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  return socket;
}

for (const kind of databaseKinds()) {
  describe(`interrupted chunk bodies on ${kind}`, () => {
    let t: TestApp;

    const reservations = (id: string, committed: boolean): Promise<number> =>
      t.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id, committed });

    withTestApp(kind, {}, (app) => {
      t = app;
    });

    /** Cuts the connection once the server holds the range, then checks nothing counts and a retry is stored (200, not duplicate). */
    async function cutThenRetry(id: string, data: Buffer, socket: Socket): Promise<void> {
      await waitUntil('the server reserved the range', async () => (await reservations(id, false)) === 1);
      await sleep(30); // let some of the partial body reach the storage
      socket.destroy();
      const status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200);
      assert.deepEqual(status.body.chunks, [], 'an interrupted chunk is not recorded');
      assert.equal(status.body.received_bytes, 0);
      const retry = await putChunk(t.uploadUrl, id, data.subarray(0, CHUNK), 0, data.length);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(retry.body.duplicate, undefined, 'the retry is stored, not taken for a duplicate');
      assert.equal(await reservations(id, false), 0, 'the interrupted reservation is gone');
      assert.equal(await reservations(id, true), 1);
      assert.deepEqual(
        t.loggedErrors().map((entry) => entry.text),
        [],
        'a client that goes away is not logged as a server error',
      );
    }

    /** Sends the remaining chunks, finalizes, and compares the assembled file with the source. */
    async function completeAndCompare(id: string, name: string, data: Buffer): Promise<void> {
      for (const { start, end } of chunkRanges(data.length, CHUNK).slice(1)) {
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length)).status, 200);
      }
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, name)), data);
    }

    it('a raw body cut halfway records nothing; the retry of the same range answers 200 and the file assembles exactly', async () => {
      const data = testBytes(3 * CHUNK + 1234, 41);
      const id = await startOk(t.uploadUrl, 'raw-cut.bin', data.length);
      const head = requestHead(t, id, `bytes 0-${CHUNK - 1}/${data.length}`, 'application/octet-stream', CHUNK);
      // Different bytes than the source, so leftovers of the cut body would show in the result.
      const socket = await sendPartial(t, Buffer.concat([head, Buffer.alloc(CHUNK / 2, 0xee)]));
      await cutThenRetry(id, data, socket);
      await completeAndCompare(id, 'raw-cut.bin', data);
    });

    it('a multipart body cut halfway records nothing; the retry of the same range answers 200 and the file assembles exactly', async () => {
      const data = testBytes(2 * CHUNK + 99, 42);
      const id = await startOk(t.uploadUrl, 'multipart-cut.bin', data.length);
      const body = multipartBody(Buffer.alloc(CHUNK, 0xdd));
      const head = requestHead(t, id, `bytes 0-${CHUNK - 1}/${data.length}`, `multipart/form-data; boundary=${BOUNDARY}`, body.length);
      const socket = await sendPartial(t, Buffer.concat([head, body.subarray(0, body.length / 2)]));
      await cutThenRetry(id, data, socket);
      await completeAndCompare(id, 'multipart-cut.bin', data);
    });

    it('a client that stalls mid-body holds its range (twin waits, overlap 409) and releases it on disconnect: the waiting twin is stored (200)', async () => {
      const data = testBytes(2 * CHUNK, 43);
      const id = await startOk(t.uploadUrl, 'stalled.bin', data.length);
      const head = requestHead(t, id, `bytes 0-${CHUNK - 1}/${data.length}`, 'application/octet-stream', CHUNK);
      const socket = await sendPartial(t, Buffer.concat([head, Buffer.alloc(1000, 0xcc)]));
      await waitUntil('the server reserved the range', async () => (await reservations(id, false)) === 1);

      const overlap = await putChunk(t.uploadUrl, id, data.subarray(100, 200), 100, data.length);
      assert.equal(overlap.status, 409, 'a live reservation is not overwritten by an overlapping chunk');
      let twinSettled = false;
      const twin = putChunk(t.uploadUrl, id, data.subarray(0, CHUNK), 0, data.length).finally(() => {
        twinSettled = true;
      });
      await sleep(200);
      assert.equal(twinSettled, false, 'the identical chunk waits while the stalled writer holds the range');

      socket.destroy();
      const answer = await twin;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.duplicate, undefined);
      const status = await getStatus(t.uploadUrl, id);
      assert.deepEqual(status.body.chunks, [{ start: 0, end: CHUNK - 1, size: CHUNK }]);
      assert.deepEqual(
        t.loggedErrors().map((entry) => entry.text),
        [],
      );
      await completeAndCompare(id, 'stalled.bin', data);
    });
  });
}
