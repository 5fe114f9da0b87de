/**
 * HTTP chaos against the real example app process, on every database:
 * generated malformed, truncated, cut and interleaved multipart and raw
 * chunk bodies, odd ids and paths, odd header values, and concurrent twins
 * with overlaps, sent as exact bytes over `node:net` sockets
 * (support/chaos-cases.ts). After every case: the process is alive and
 * logged no unhandled error; a request sent whole got an answer; the answer
 * is a 4xx in frago's body (never 5xx, no stack, no server path); and
 * nothing was recorded (no chunk, no byte, no new file), or for twins,
 * exactly what was acknowledged.
 *
 * Reproduce a failure with the seed and path it prints:
 *   FRAGO_CHAOS_SEED=<seed> FRAGO_CHAOS_PATH=<path> FRAGO_CHAOS_FAMILY=<family> npm test -- chaos
 * FRAGO_CHAOS_RUNS=<factor> multiplies every family's run count.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AppProcesses, REPO_ROOT, type AppProcess } from '../helpers/app-process';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk } from '../helpers/upload-client';
import { listFiles } from './support/files';
import { parseAnswer, requestHead, sendRequest, type RawOutcome } from '../helpers/raw-http';
import {
  build,
  buildConcurrent,
  concurrentFile,
  concurrentPlan,
  cutPlan,
  headerPlan,
  multipartPlan,
  oddIdPlan,
  rawPlan,
  twinsPlan,
  asConcurrent,
  MAX_CHUNK,
  TWIN_BOUND,
  STORED_RANGE,
  TOTAL,
  TWIN_RANGE,
  type ChaosPlan,
  type ChaosRequest,
  type ConcurrentPlan,
  type TwinsPlan,
} from './support/chaos-cases';
import { connect } from 'node:net';
import { DbProbe } from './support/db-probe';

const FACTOR = Number(process.env.FRAGO_CHAOS_RUNS ?? '1') || 1;
const SEED = process.env.FRAGO_CHAOS_SEED ? Number(process.env.FRAGO_CHAOS_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.FRAGO_CHAOS_PATH;
const ONLY = process.env.FRAGO_CHAOS_FAMILY;
/** A family stops early (and passes with the runs done) past this much time, so a loaded machine stays bounded. */
const FAMILY_TIME_LIMIT_MS = 40_000;

/** Families and their run counts per database. */
const FAMILIES = {
  multipart: { runs: 50, title: 'malformed, truncated and misleading multipart bodies', plan: multipartPlan as fc.Arbitrary<ChaosPlan> },
  raw: { runs: 40, title: 'raw bodies that disagree with their headers or their own framing', plan: rawPlan as fc.Arbitrary<ChaosPlan> },
  cut: { runs: 30, title: 'connections destroyed mid-body', plan: cutPlan as fc.Arbitrary<ChaosPlan> },
  'odd-id': { runs: 50, title: 'odd ids and paths on every method', plan: oddIdPlan as fc.Arbitrary<ChaosPlan> },
  header: { runs: 60, title: 'odd Content-Range, Content-Digest, Content-MD5 and huge headers', plan: headerPlan as fc.Arbitrary<ChaosPlan> },
} as const;
const CONCURRENT_RUNS = 12;
const TWINS_RUNS = 12;

const SERVER_PATHS = [REPO_ROOT, tmpdir(), '/node_modules/', 'node:internal'];

function parse(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The checks every answer passes; returns the parsed body. */
function checkAnswer(outcome: RawOutcome, request: ChaosRequest, dataDir: string): Record<string, unknown> | null {
  const what = `${request.label ? `${request.label}: ` : ''}${request.raw.method} ${request.raw.path.slice(0, 120)}`;
  if (!outcome.answer) {
    const refusedByNode = request.expect.protocolLevel && !outcome.fullySent;
    assert.ok(
      request.expect.mayGoUnanswered || refusedByNode,
      `${what}: no answer (${outcome.error}) to a request that was ${outcome.fullySent ? 'sent whole' : 'cut by the server while sending'}`,
    );
    return null;
  }
  const { status, headers, body } = outcome.answer;
  const shown = `${what}: ${status} ${body.slice(0, 300)}`;
  const code = parse(body)?.code;
  const retryLater = typeof code === 'string' && (request.expect.retryLater ?? []).includes(code);
  assert.ok(status < 500, `${shown}: a server error`);
  if (retryLater) assert.match(headers['retry-after'] ?? '', /^\d+$/, `${shown}: asked to retry without Retry-After`);
  assert.ok(!/\bat \S+ \(|\n\s+at /.test(body), `${shown}: stack trace in the answer`);
  for (const path of [...SERVER_PATHS, dataDir]) assert.ok(!body.includes(path), `${shown}: server path ${path} in the answer`);
  assert.ok(request.expect.statuses.includes(status), `${shown}: expected one of ${summarise(request.expect.statuses)}`);
  const parsed = parse(body);
  const key = request.raw.method === 'PUT' ? 'error' : 'message';
  const fragoShape = parsed !== null && parsed.status === false && typeof parsed.code === 'string' && typeof parsed[key] === 'string';
  if (status >= 400) {
    if (!fragoShape) {
      assert.ok(request.expect.protocolLevel && [400, 413, 414, 431].includes(status), `${shown}: not frago's body {status:false, code, ${key}}`);
    } else {
      if (request.expect.code) assert.equal(parsed.code, request.expect.code, shown);
      assert.equal(headers['x-content-type-options'], 'nosniff', `${shown}: JSON answer without X-Content-Type-Options: nosniff`);
    }
  }
  return parsed;
}

/** `fetch failed` and its cause (e.g. `UND_ERR_SOCKET other side closed`). */
function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return `${String(error)}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`;
}

function summarise(statuses: number[]): string {
  return statuses.length > 10 ? `${statuses[0]}–${statuses[statuses.length - 1]}` : statuses.join(', ');
}

/** Runs one property with the suite's seed; a failure names how to reproduce it. */
async function runProperty<T>(
  family: string,
  kind: string,
  arbitrary: fc.Arbitrary<T>,
  runs: number,
  check: (value: T) => Promise<void>,
  diagnostic: (text: string) => void,
): Promise<void> {
  let done = 0;
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        done++;
        await check(value);
      }),
      {
        numRuns: Math.max(1, Math.round(runs * FACTOR)),
        seed: SEED,
        path: PATH,
        endOnFailure: true,
        plugins: [fc.interruptAfterTimeLimit(FAMILY_TIME_LIMIT_MS * FACTOR, { failOnInterrupt: false })],
      },
    );
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(
      `chaos family "${family}" failed on ${kind}; reproduce with FRAGO_CHAOS_SEED=${SEED} FRAGO_CHAOS_FAMILY=${family} (and the path below as FRAGO_CHAOS_PATH) npm test -- chaos\n` +
        `${(error as Error).message}\nFailure: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause: error },
    );
  }
  diagnostic(`${family} on ${kind}: ${done} cases in ${Date.now() - started} ms (seed ${SEED})`);
}

for (const kind of databaseKinds()) {
  describe(`HTTP chaos against the example app process on ${kind}`, () => {
    const apps = new AppProcesses();
    let db: TestDatabase;
    let app: AppProcess;
    let root: string;
    let dataDir: string;
    let cases = 0;

    const startApp = async (): Promise<AppProcess> =>
      apps.start({
        cwd: root,
        env: {
          DATABASE_URL: db.url,
          FRAGO_DATA_DIR: dataDir,
          FRAGO_MAX_CHUNK_SIZE: String(MAX_CHUNK),
          FRAGO_CHUNK_LEASE_MS: '5000',
          FRAGO_FSYNC: 'false',
          FRAGO_MAX_WAITING_TWINS: String(TWIN_BOUND),
        },
      });

    before(async () => {
      db = await createTestDatabase(kind);
      root = mkdtempSync(join(tmpdir(), 'frago-chaos-'));
      dataDir = join(root, 'data');
      app = await startApp();
    });
    // A family that killed the app has failed already (and stopAll() reports it again): the next one gets a fresh process.
    beforeEach(async () => {
      if (!app.running()) app = await startApp();
    });
    after(async () => {
      try {
        await apps.stopAll();
      } finally {
        await db?.drop();
        if (root) rmSync(root, { recursive: true, force: true });
      }
    });

    /** Sends one plan to a fresh upload, then checks the answer, the process, and that nothing was recorded. */
    async function single(plan: ChaosPlan): Promise<void> {
      const id = await startOk(app.uploadUrl, `chaos-${++cases}.bin`, TOTAL);
      const files = listFiles(dataDir);
      const request = build(plan, '/api/upload', id);
      const outcome = await sendRequest(app.port, request.raw);
      app.assertHealthy(`the app on ${kind}`);
      checkAnswer(outcome, request, dataDir);
      // A checker request that fails means the app broke (it died, or reset the connection): say how,
      // once a dying process has exited and printed why.
      const status = await getStatus(app.uploadUrl, id).catch(async (error: unknown) => {
        await app.waitExit(3000).catch(() => undefined);
        app.assertHealthy(`the app on ${kind} (the status GET after the case failed: ${describeFetchFailure(error)})`);
        throw new Error(`the status GET after the case failed: ${describeFetchFailure(error)}`);
      });
      assert.equal(status.status, 200, `GET after the case: ${JSON.stringify(status.body)}`);
      assert.deepEqual(status.body.chunks, [], 'a chunk was recorded');
      assert.equal(status.body.received_bytes, 0, 'bytes were recorded');
      assert.equal(status.body.status, 'in_progress');
      assert.deepEqual(listFiles(dataDir), files, 'files appeared or vanished in the data folder');
      app.assertHealthy(`the app on ${kind}`);
    }

    for (const [family, { runs, title, plan }] of Object.entries(FAMILIES)) {
      if (ONLY && ONLY !== family) continue;
      it(`${title}: alive, a 4xx in frago's body, nothing recorded`, async (t) => {
        await runProperty(family, kind, plan, runs, single, (text) => t.diagnostic(text));
      });
    }

    /** Twins, bad twins and overlaps at once; exactly the acknowledged chunk is recorded and the file completes byte for byte. */
    async function concurrent(plan: ConcurrentPlan): Promise<void> {
      const file = concurrentFile(plan);
      const name = `chaos-twins-${++cases}.bin`;
      const id = await startOk(app.uploadUrl, name, TOTAL);
      const piece = (start: number, size: number): Buffer => file.subarray(start, start + size);
      assert.equal((await putChunk(app.uploadUrl, id, piece(STORED_RANGE.start, STORED_RANGE.size), STORED_RANGE.start, TOTAL)).status, 200);
      const requests = plan.roles.map((role) => buildConcurrent(plan, role, `/api/upload/${id}/`));
      const outcomes = await Promise.all(requests.map((request) => sendRequest(app.port, request.raw)));
      app.assertHealthy(`the app on ${kind}`);
      const stored: number[] = [];
      outcomes.forEach((outcome, i) => {
        const body = checkAnswer(outcome, requests[i], dataDir);
        if (outcome.answer?.status === 200 && body?.duplicate !== true) stored.push(i);
      });
      // Twins asked to retry (past the bound) while bad twins held the range may leave nothing stored:
      // a client retries such a twin, and that retry is stored.
      const askedToRetry = outcomes.findIndex((outcome, i) => plan.roles[i].role === 'twin' && outcome.answer?.status === 429);
      if (stored.length === 0 && askedToRetry >= 0) {
        const retry = await sendRequest(app.port, requests[askedToRetry].raw);
        const body = checkAnswer(retry, requests[askedToRetry], dataDir);
        if (retry.answer?.status === 200 && body?.duplicate !== true) stored.push(askedToRetry);
      }
      assert.equal(stored.length, 1, `exactly one request is stored (not a duplicate): ${JSON.stringify(outcomes.map((o) => o.answer?.body ?? o.error))}`);
      assert.equal(plan.roles[stored[0]].role, 'twin', 'the stored request is a valid twin');
      const status = await getStatus(app.uploadUrl, id);
      const chunk = (start: number, size: number): { start: number; end: number; size: number } => ({ start, end: start + size - 1, size });
      assert.deepEqual(status.body.chunks, [chunk(TWIN_RANGE.start, TWIN_RANGE.size), chunk(STORED_RANGE.start, STORED_RANGE.size)]);
      assert.equal(status.body.received_bytes, TWIN_RANGE.size + STORED_RANGE.size);
      for (const [start, size] of [
        [512, 1536],
        [2560, 1536],
      ]) {
        const answer = await putChunk(app.uploadUrl, id, piece(start, size), start, TOTAL, { multipart: plan.seed % 2 === 0 });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }
      const done = await finalize(app.uploadUrl, id, { checksum: digest(file) });
      assert.equal(done.status, 201, `the stored bytes are the good twin's: ${JSON.stringify(done.body)}`);
      assert.deepEqual(readFileSync(join(dataDir, 'assembled_uploads', name)), file);
      app.assertHealthy(`the app on ${kind}`);
    }

    if (!ONLY || ONLY === 'concurrent') {
      it('concurrent twins interleaved with bad twins and overlaps: no 5xx, exactly one stored, the file completes byte for byte', async (t) => {
        await runProperty('concurrent', kind, concurrentPlan, CONCURRENT_RUNS, concurrent, (text) => t.diagnostic(text));
      });
    }

    /** Reads the chunk rows (a reservation in flight shows there, not in GET). */
    let probe: DbProbe | undefined;
    after(async () => {
      await probe?.close();
    });

    /**
     * A writer holds the twins' range while a burst of identical twins
     * arrives (more than TWIN_BOUND wait: the rest are asked to retry), then
     * finishes or is cut: exactly one request stored the chunk, every twin
     * answered 200 (duplicate, or the one that wrote it after a cut) or 429
     * TWIN_WAIT_LIMIT with Retry-After, never 409 or 500; the file completes byte for byte.
     */
    async function twins(plan: TwinsPlan): Promise<void> {
      probe ??= await DbProbe.open(db);
      const concurrentPlan = asConcurrent(plan);
      const file = concurrentFile(concurrentPlan);
      const name = `chaos-held-twins-${++cases}.bin`;
      const id = await startOk(app.uploadUrl, name, TOTAL);
      const holderRequest = buildConcurrent(concurrentPlan, { role: 'twin', multipart: plan.holder.multipart }, `/api/upload/${id}/`).raw;
      const holderBody = Buffer.concat(holderRequest.body);
      const socket = connect(app.port, '127.0.0.1');
      socket.on('error', () => undefined);
      const received: Buffer[] = [];
      socket.on('data', (bytes: Buffer) => received.push(bytes));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(requestHead(app.port, holderRequest));
      socket.write(holderBody.subarray(0, Math.floor(holderBody.length / 2)));
      for (let attempt = 0; (await probe.chunks(id)).length === 0; attempt++) {
        assert.ok(attempt < 5000, 'the holder got its reservation');
        await new Promise((resolve) => setImmediate(resolve));
      }
      const requests = plan.twins.map((twin) => buildConcurrent(concurrentPlan, { role: 'twin', multipart: twin.multipart }, `/api/upload/${id}/`));
      let settled = 0;
      const pending = requests.map((request) => sendRequest(app.port, request.raw).finally(() => settled++));
      // Twins past the bound answer at once; the others wait for the holder.
      const refusedAtOnce = Math.max(0, requests.length - TWIN_BOUND);
      for (let attempt = 0; settled < refusedAtOnce; attempt++) {
        assert.ok(attempt < 100_000, 'the twins over the bound were answered');
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (plan.holder.ends === 'finishes') socket.write(holderBody.subarray(Math.floor(holderBody.length / 2)));
      else socket.destroy();
      await closed;
      const outcomes = await Promise.all(pending);
      app.assertHealthy(`the app on ${kind}`);
      const holderAnswer = parseAnswer(Buffer.concat(received));
      let stored = 0;
      if (plan.holder.ends === 'finishes') {
        assert.equal(holderAnswer?.kind === 'answer' ? holderAnswer.status : holderAnswer, 200, 'the holder is stored');
        stored++;
      }
      outcomes.forEach((outcome, i) => {
        const body = checkAnswer(outcome, requests[i], dataDir);
        if (outcome.answer?.status === 200 && body?.duplicate !== true) stored++;
      });
      assert.equal(
        stored,
        1,
        `exactly one request stored the chunk: holder ${JSON.stringify(holderAnswer)}, twins ${JSON.stringify(outcomes.map((o) => o.answer?.body ?? o.error))}`,
      );
      const status = await getStatus(app.uploadUrl, id);
      assert.deepEqual(status.body.chunks, [{ start: TWIN_RANGE.start, end: TWIN_RANGE.start + TWIN_RANGE.size - 1, size: TWIN_RANGE.size }]);
      const rest = file.subarray(TWIN_RANGE.size);
      assert.equal((await putChunk(app.uploadUrl, id, rest, TWIN_RANGE.size, TOTAL)).status, 200);
      const done = await finalize(app.uploadUrl, id, { checksum: digest(file) });
      assert.equal(done.status, 201, `the stored bytes are the twins': ${JSON.stringify(done.body)}`);
      assert.deepEqual(readFileSync(join(dataDir, 'assembled_uploads', name)), file);
      app.assertHealthy(`the app on ${kind}`);
    }

    if (!ONLY || ONLY === 'twins') {
      it(`a held range and a burst of identical twins (more than the ${TWIN_BOUND} allowed to wait): exactly one stored, twins answer 200 or 429 TWIN_WAIT_LIMIT, never 409 or 5xx`, async (t) => {
        await runProperty('twins', kind, twinsPlan, TWINS_RUNS, twins, (text) => t.diagnostic(text));
      });
    }
  });
}
