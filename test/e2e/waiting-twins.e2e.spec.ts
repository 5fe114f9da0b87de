/**
 * Identical retries of a chunk (twins) while the request that holds its range
 * is slow: waiting costs no database work (the holder in this process wakes
 * its twins; holders elsewhere are watched by one non-locking read per range),
 * other clients are served meanwhile, and the wait is bounded
 * (`maxWaitingTwins`, `twinWaitTimeout`: 429 with Retry-After in frago's body,
 * never 409 or 500).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type Logger } from 'typeorm';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { TwinWaits } from 'nestjs-frago/dist/services/twin-waits';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { parseAnswer, type RawAnswer } from '../helpers/raw-http';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { getStatus, putChunk, startOk, testBytes, uploadAll, type JsonResponse } from '../helpers/upload-client';

const WAIT_LIMIT_MS = 20_000;
const CHUNK = 64 * 1024;
const TWINS = 24;
const POLL_MS = 40;
const POLLS_IN_WINDOW = 5;

/** Polls `check` until it returns true; fails after {@link WAIT_LIMIT_MS}. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/** Every statement the app's DataSource sends (TypeORM calls the logger for each, whatever `logging` says). */
class StatementLog implements Logger {
  readonly statements: Array<{ query: string; parameters: unknown[] }> = [];
  logQuery(query: string, parameters?: unknown[]): void {
    this.statements.push({ query, parameters: parameters ?? [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  /** Reads of the twins' shared poll of `uploadId` (one chunk row by upload and start, no lock) since statement `from`. */
  polls(uploadId: string, from: number): number {
    return this.statements
      .slice(from)
      .filter(
        ({ query, parameters }) =>
          /^SELECT .* FROM \W?frago_chunk\b.* LIMIT 1$/s.test(query) && !/FOR UPDATE|ORDER BY|<|BETWEEN/i.test(query) && parameters[0] === uploadId,
      ).length;
  }
}

/** A writer that holds a range: the head and part of the body, the rest when asked. */
class SlowWriter {
  private readonly received: Buffer[] = [];
  private readonly closed: Promise<void>;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => this.received.push(data));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async start(t: TestApp, id: string, data: Buffer, total: number): Promise<SlowWriter> {
    const url = new URL(`${t.uploadUrl}/${id}/`);
    const socket = connect(Number(url.port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const head = `PUT ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\nContent-Range: bytes 0-${data.length - 1}/${total}\r\nConnection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head), data.subarray(0, data.length / 2)]));
    const writer = new SlowWriter(socket);
    writer.rest = data.subarray(data.length / 2);
    return writer;
  }

  private rest: Buffer = Buffer.alloc(0);

  /** Sends the rest of the body and resolves with the answer. */
  async finish(): Promise<RawAnswer | null> {
    this.socket.write(this.rest);
    await this.closed;
    return parseAnswer(Buffer.concat(this.received));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function assertRetryLater(answer: JsonResponse, code: string): void {
  assert.equal(answer.status, 429, JSON.stringify(answer.body));
  assert.equal(answer.body.status, false);
  assert.equal(answer.body.code, code);
  assert.equal(typeof answer.body.error, 'string');
  assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After');
}

for (const kind of databaseKinds()) {
  describe(`waiting twins on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const log = new StatementLog();
    const reservations = (app: TestApp, id: string): Promise<number> =>
      app.app.get(DataSource).getRepository(ChunkedUploadChunk).countBy({ uploadId: id, committed: false });
    const waiting = (app: TestApp): number => app.app.get(TwinWaits).count;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({
        db: { ...db, options: { ...db.options, logger: log } },
        options: { maxWaitingTwins: TWINS, twinPollInterval: POLL_MS, twinWaitTimeout: 120_000 },
      });
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it(`${TWINS} twins of a slow writer: no database work grows with twins × time, another client is served, one more twin answers 429 TWIN_WAIT_LIMIT, the rest answer duplicate`, async () => {
      const data = testBytes(CHUNK, 71);
      const total = CHUNK * 2;
      const id = await startOk(t.uploadUrl, 'twins.bin', total);
      const writer = await SlowWriter.start(t, id, data, total);
      try {
        await waitUntil('the slow writer holds the range', async () => (await reservations(t, id)) === 1);
        const twins = Array.from({ length: TWINS }, () => putChunk(t.uploadUrl, id, data, 0, total));
        await waitUntil(`${TWINS} twins wait`, () => waiting(t) === TWINS);

        // The window: from "every twin waits" until the shared poll ran a few times (or, without
        // it, until the twins issued far more statements than that would take).
        const from = log.statements.length;
        await waitUntil('the twins waited a while', () => log.polls(id, from) >= POLLS_IN_WINDOW || log.statements.length - from >= 20 * TWINS);
        const issued = log.statements.length - from;
        const polls = log.polls(id, from);
        assert.ok(polls >= POLLS_IN_WINDOW, `the twins share one poll of the range (${polls} polls, ${issued} statements)`);
        // The poll that just ran, maybe one more in flight: nothing grows with the number of twins.
        assert.ok(
          issued <= polls + 1,
          `${TWINS} waiting twins issued ${issued} statements over ${polls} polls: ${JSON.stringify(log.statements.slice(from, from + 6).map((s) => s.query))}`,
        );

        // Everyone else is served while they wait.
        const other = testBytes(3 * 1024, 72);
        await uploadAll(t.uploadUrl, 'other-client.bin', other, 1024);
        assert.equal(waiting(t), TWINS, 'the twins still wait');

        const extra = await putChunk(t.uploadUrl, id, data, 0, total);
        assertRetryLater(extra, 'TWIN_WAIT_LIMIT');

        const answer = await writer.finish();
        assert.equal(answer?.kind === 'answer' ? answer.status : answer, 200, JSON.stringify(answer));
        const answers = await Promise.all(twins);
        for (const twin of answers) {
          assert.equal(twin.status, 200, JSON.stringify(twin.body));
          assert.equal(twin.body.duplicate, true, JSON.stringify(twin.body));
        }
        assert.equal(waiting(t), 0);
        const status = await getStatus(t.uploadUrl, id);
        assert.deepEqual(status.body.chunks, [{ start: 0, end: CHUNK - 1, size: CHUNK }]);
      } finally {
        writer.destroy();
      }
    });

    it('a twin whose writer fails is woken at once and writes the chunk itself (200, not duplicate)', async () => {
      const data = testBytes(CHUNK, 73);
      const id = await startOk(t.uploadUrl, 'twin-takes-over.bin', CHUNK);
      const writer = await SlowWriter.start(t, id, data, CHUNK);
      await waitUntil('the slow writer holds the range', async () => (await reservations(t, id)) === 1);
      const twin = putChunk(t.uploadUrl, id, data, 0, CHUNK);
      await waitUntil('the twin waits', () => waiting(t) === 1);
      writer.destroy();
      const answer = await twin;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.duplicate, undefined);
      assert.equal((await getStatus(t.uploadUrl, id)).body.received_bytes, CHUNK);
    });

    describe('a writer on another instance', () => {
      let other: TestApp;
      before(async () => {
        other = await createTestApp({ db, dataDir: t.dataDir, options: { twinPollInterval: POLL_MS, twinWaitTimeout: 300 } });
      });
      after(async () => {
        await other?.close();
      });

      it('is watched by the poll: its twin here answers duplicate once it commits there', async () => {
        const data = testBytes(CHUNK, 74);
        const id = await startOk(t.uploadUrl, 'twin-elsewhere.bin', CHUNK);
        const writer = await SlowWriter.start(other, id, data, CHUNK);
        try {
          await waitUntil('the writer there holds the range', async () => (await reservations(t, id)) === 1);
          const twin = putChunk(t.uploadUrl, id, data, 0, CHUNK);
          await waitUntil('the twin waits here', () => waiting(t) === 1);
          const answer = await writer.finish();
          assert.equal(answer?.kind === 'answer' ? answer.status : answer, 200);
          const twinAnswer = await twin;
          assert.equal(twinAnswer.status, 200, JSON.stringify(twinAnswer.body));
          assert.equal(twinAnswer.body.duplicate, true);
        } finally {
          writer.destroy();
        }
      });

      it('a twin that waits past twinWaitTimeout answers 429 TWIN_WAIT_TIMEOUT with Retry-After; its retry once the writer is done answers duplicate', async () => {
        const data = testBytes(CHUNK, 75);
        const id = await startOk(t.uploadUrl, 'twin-deadline.bin', CHUNK);
        const writer = await SlowWriter.start(t, id, data, CHUNK);
        try {
          await waitUntil('the slow writer holds the range', async () => (await reservations(t, id)) === 1);
          assertRetryLater(await putChunk(other.uploadUrl, id, data, 0, CHUNK), 'TWIN_WAIT_TIMEOUT');
          assert.equal(waiting(other), 0);
          await writer.finish();
          const retry = await putChunk(other.uploadUrl, id, data, 0, CHUNK);
          assert.equal(retry.status, 200, JSON.stringify(retry.body));
          assert.equal(retry.body.duplicate, true);
        } finally {
          writer.destroy();
        }
      });
    });
  });
}
