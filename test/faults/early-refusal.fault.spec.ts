import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { AppProcesses } from '../helpers/app-process';
import { sendWithFetch, sendWithNodeHttp, type SendOutcome } from './support/sending-clients';

const TRIES = 30;
const MAX_CHUNK = 8 * 1024 * 1024;
const TOTAL = 32 * 1024 * 1024;

/**
 * A refusal sent before the body is read reaches a client that is still
 * sending: the server reads the rest (within a bound) before it closes. The
 * example app runs in its own process (in one process the client reads the
 * answer before the reset can destroy it). HTTP behaviour only (the refusals
 * below need no database write): SQLite.
 */
describe('early refusals reach clients that keep sending', () => {
  const apps = new AppProcesses();
  let db: TestDatabase;
  let dataDir: string;
  let t: { uploadUrl: string };
  let completeId: string;
  let openId: string;

  before(async () => {
    db = await createTestDatabase('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'frago-refusal-'));
    t = await apps.start({ env: { DATABASE_URL: db.url, FRAGO_DATA_DIR: dataDir, FRAGO_MAX_CHUNK_SIZE: String(MAX_CHUNK) } });
    const data = testBytes(1000, 1);
    completeId = await startOk(t.uploadUrl, 'complete.bin', data.length);
    assert.equal((await putChunk(t.uploadUrl, completeId, data, 0, data.length)).status, 200);
    assert.equal((await finalize(t.uploadUrl, completeId, { checksum: digest(data) })).status, 201);
    openId = await startOk(t.uploadUrl, 'open.bin', 32 * 1024 * 1024);
  });
  after(async () => {
    await apps.stopAll();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const MiB = 1024 * 1024;
  const MULTIPART_HEAD = Buffer.from(
    '--frago-over\r\nContent-Disposition: form-data; name="file"; filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n',
  );
  const refusals: Array<{ what: string; status: number; size: number; url: () => string; range: string; multipart?: boolean }> = [
    { what: '404 for an unknown upload', status: 404, size: 4 * MiB, url: () => `${t.uploadUrl}/${randomUUID()}/`, range: `bytes 0-${4 * MiB - 1}/${TOTAL}` },
    {
      what: '413 for a chunk above maxChunkSize',
      status: 413,
      size: 9 * MiB,
      url: () => `${t.uploadUrl}/${openId}/`,
      range: `bytes 0-${9 * MiB - 1}/${TOTAL}`,
    },
    {
      what: '413 for a raw chunk one byte over maxChunkSize',
      status: 413,
      size: MAX_CHUNK + 1,
      url: () => `${t.uploadUrl}/${openId}/`,
      range: `bytes 0-${MAX_CHUNK}/${TOTAL}`,
    },
    {
      what: '413 for a multipart chunk one byte over maxChunkSize',
      status: 413,
      size: MULTIPART_HEAD.length + MAX_CHUNK + 1 + '\r\n--frago-over--\r\n'.length,
      url: () => `${t.uploadUrl}/${openId}/`,
      range: `bytes 0-${MAX_CHUNK}/${TOTAL}`,
      multipart: true,
    },
    { what: '409 for a complete upload', status: 409, size: 4 * MiB, url: () => `${t.uploadUrl}/${completeId}/`, range: `bytes 0-${4 * MiB - 1}/${TOTAL}` },
    { what: '400 for a Content-Range past the total', status: 400, size: 4 * MiB, url: () => `${t.uploadUrl}/${openId}/`, range: `bytes 0-${4 * MiB - 1}/100` },
  ];

  const clients: Array<[string, (url: string, headers: Record<string, string>, size: number, head?: Buffer) => Promise<SendOutcome>]> = [
    ['node:http', (url, headers, size, head) => sendWithNodeHttp(url, 'PUT', headers, size, undefined, head)],
    ['fetch', (url, headers, size, head) => sendWithFetch(url, 'PUT', headers, size, head)],
  ];

  for (const refusal of refusals) {
    for (const [client, send] of clients) {
      it(`the ${refusal.what} reaches a ${client} client that keeps sending a ${(refusal.size / MiB).toFixed(2)} MiB body, ${TRIES} times out of ${TRIES}`, async () => {
        const outcomes: SendOutcome[] = [];
        const contentType = refusal.multipart ? 'multipart/form-data; boundary=frago-over' : 'application/octet-stream';
        for (let attempt = 0; attempt < TRIES; attempt++) {
          outcomes.push(
            await send(
              refusal.url(),
              { 'content-type': contentType, 'content-range': refusal.range },
              refusal.size,
              refusal.multipart ? MULTIPART_HEAD : undefined,
            ),
          );
        }
        const lost = outcomes.filter((outcome) => !('status' in outcome) || outcome.status !== refusal.status);
        assert.deepEqual(lost, [], `every try got the ${refusal.status} (lost ${lost.length} of ${TRIES})`);
        for (const outcome of outcomes) {
          if ('status' in outcome) assert.equal((JSON.parse(outcome.body) as { status: unknown }).status, false, outcome.body);
        }
      });
    }
  }

  it('after an early refusal the connection can carry no surprise: a keep-alive client gets the answer and its next request works', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const refused = await sendWithNodeHttp(
          `${t.uploadUrl}/${randomUUID()}/`,
          'PUT',
          { 'content-type': 'application/octet-stream', 'content-range': `bytes 0-${4 * 1024 * 1024 - 1}/${TOTAL}` },
          4 * 1024 * 1024,
          agent,
        );
        assert.equal('status' in refused && refused.status, 404, JSON.stringify(refused));
        const next = await sendWithNodeHttp(`${t.uploadUrl}/${openId}/`, 'GET', {}, 0, agent);
        assert.equal('status' in next && next.status, 200, JSON.stringify(next));
      }
    } finally {
      agent.destroy();
    }
  });
});
