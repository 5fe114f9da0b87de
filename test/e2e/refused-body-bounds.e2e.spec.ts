import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';

const LIMIT = 1024 * 1024;
const BODY = 256 * 1024 * 1024;

/** Streams up to `size` bytes and reports how many the socket took before the server closed it. */
function sendUntilClosed(url: string, size: number): Promise<{ status: number | null; sent: number }> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let sent = 0;
    const request = httpRequest(
      url,
      {
        method: 'PUT',
        agent: new Agent({ keepAlive: false }),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), 'content-range': `bytes 0-${size - 1}/${size}` },
      },
      (response) => {
        status = response.statusCode ?? null;
        response.resume();
      },
    );
    request.on('error', () => undefined);
    request.on('close', () => resolve({ status, sent }));
    const piece = Buffer.alloc(64 * 1024);
    const pump = (): void => {
      while (sent < size && !request.destroyed) {
        sent += piece.length;
        if (!request.write(piece)) {
          request.once('drain', pump);
          return;
        }
      }
      if (sent >= size) request.end();
    };
    pump();
  });
}

// The bound is HTTP behaviour; no database write is involved: SQLite.
describe('the reading of a refused body is bounded', () => {
  let db: TestDatabase;
  let t: TestApp;
  before(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ db, options: { refusedBodyDrainLimit: LIMIT, maxUploadSize: BODY, maxChunkSize: BODY } });
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  it('a client that keeps sending a 256 MiB body after its 404 is cut off once refusedBodyDrainLimit bytes were thrown away', async () => {
    const outcome = await sendUntilClosed(`${t.uploadUrl}/${randomUUID()}/`, BODY);
    assert.equal(outcome.status, 404);
    assert.ok(outcome.sent < BODY, `the server closed before the whole body was sent (${outcome.sent} of ${BODY} bytes)`);
  });
});

/** A refused request held open by its client: the head and the first bytes of a body it may finish later. */
interface HeldRequest {
  answered: Promise<string>;
  closed: Promise<void>;
  isClosed(): boolean;
  finish(): void;
}

function holdRefusedRequest(t: TestApp, size: number): HeldRequest {
  const url = new URL(`${t.uploadUrl}/${randomUUID()}/`);
  const socket = connect(Number(url.port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  let closed = false;
  const answered = new Promise<string>((resolve) => {
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (received.includes('\r\n\r\n')) resolve(received.slice(0, received.indexOf('\r\n')));
    });
  });
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.write(
    `PUT ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n` +
      `Content-Range: bytes 0-${size - 1}/${size}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(1024, 1));
  return { answered, closed: closedPromise, isClosed: () => closed, finish: () => socket.end(Buffer.alloc(size - 1024, 1)) };
}

describe('at most refusedBodyDrainSockets connections drain at once', () => {
  const CAP = 2;
  const SIZE = 512 * 1024;
  let db: TestDatabase;
  let t: TestApp;
  before(async () => {
    db = await createTestDatabase('sqlite');
    // A drain that is never cut short by its own bounds during the test: only the cap decides.
    t = await createTestApp({ db, options: { refusedBodyDrainSockets: CAP, refusedBodyDrainTimeout: 600_000, maxChunkSize: 64 * 1024 } });
  });
  after(async () => {
    await t?.close();
    await db?.drop();
  });

  it('past the cap a refused connection closes after its 413 without reading on, while the draining ones stay open until their bodies end', async () => {
    const draining = Array.from({ length: CAP }, () => holdRefusedRequest(t, SIZE));
    for (const held of draining) assert.match(await held.answered, / 413 /);
    const over = holdRefusedRequest(t, SIZE);
    assert.match(await over.answered, / 413 /);
    await over.closed;
    assert.deepEqual(
      draining.map((held) => held.isClosed()),
      [false, false],
      'the connections within the cap are still being drained',
    );
    for (const held of draining) held.finish();
    await Promise.all(draining.map((held) => held.closed));
    // The slots are free again: the next refused connection is drained (open until its body ends).
    const next = holdRefusedRequest(t, SIZE);
    assert.match(await next.answered, / 413 /);
    const second = holdRefusedRequest(t, SIZE);
    assert.match(await second.answered, / 413 /);
    const third = holdRefusedRequest(t, SIZE);
    assert.match(await third.answered, / 413 /);
    await third.closed;
    assert.deepEqual([next.isClosed(), second.isClosed()], [false, false]);
    next.finish();
    second.finish();
    await Promise.all([next.closed, second.closed]);
  });
});
