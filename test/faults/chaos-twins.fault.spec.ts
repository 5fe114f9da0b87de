/**
 * HTTP chaos, concurrent cases, against the real example app process on every
 * database (the single-request families are in chaos.fault.spec.ts): identical
 * twins of a valid chunk at once with bad twins of the same range and overlapping
 * chunks, and a held range with a burst of twins over the bound of waiting twins.
 * After every case: the process is alive, every answer passes the suite's checks
 * (never 5xx, no stack, no server path), exactly one request stored the chunk and
 * the file completes byte for byte.
 *
 * Reproduce a failure with the seed and path it prints:
 *   FRAGO_CHAOS_SEED=<seed> FRAGO_CHAOS_PATH=<path> FRAGO_CHAOS_FAMILY=concurrent|twins npm test -- chaos
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, getStatus, putChunk, startOk } from '../helpers/upload-client';
import { parseAnswer, requestHead, sendRequest } from '../helpers/raw-http';
import { TOTAL } from './support/chaos-bytes';
import {
  asConcurrent,
  buildConcurrent,
  concurrentFile,
  concurrentPlan,
  STORED_RANGE,
  TWIN_BOUND,
  TWIN_RANGE,
  twinsPlan,
  type ConcurrentPlan,
  type TwinsPlan,
} from './support/chaos-concurrent';
import { checkAnswer, ONLY, runProperty, useChaosApp } from './support/chaos-run';
import { DbProbe } from './support/db-probe';

const CONCURRENT_RUNS = 12;
const TWINS_RUNS = 12;

for (const kind of databaseKinds()) {
  describe(`HTTP chaos, concurrent twins and overlaps, against the example app process on ${kind}`, () => {
    const c = useChaosApp(kind);

    /** Twins, bad twins and overlaps at once; exactly the acknowledged chunk is recorded and the file completes byte for byte. */
    async function concurrent(plan: ConcurrentPlan): Promise<void> {
      const { app, dataDir } = c;
      const file = concurrentFile(plan);
      const name = `chaos-twins-${c.nextCase()}.bin`;
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
      probe ??= await DbProbe.open(c.db);
      const { app, dataDir } = c;
      const concurrentPlan = asConcurrent(plan);
      const file = concurrentFile(concurrentPlan);
      const name = `chaos-held-twins-${c.nextCase()}.bin`;
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
