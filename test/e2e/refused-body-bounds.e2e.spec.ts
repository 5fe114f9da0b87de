import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';

const LIMIT = 1024 * 1024;
const BODY = 256 * 1024 * 1024;

/** Streams up to `size` bytes and reports how many the socket took before the server closed it. */
function sendUntilClosed(url: string, size: number): Promise<{ status: number | null; sent: number }> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let sent = 0;
    const request = httpRequest(url, {
      method: 'PUT',
      agent: new Agent({ keepAlive: false }),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), 'content-range': `bytes 0-${size - 1}/${size}` },
    }, (response) => {
      status = response.statusCode ?? null;
      response.resume();
    });
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
