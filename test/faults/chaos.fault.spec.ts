/**
 * HTTP chaos against the real example app process, on every database:
 * generated malformed, truncated and cut multipart and raw chunk bodies,
 * odd ids and paths and odd header values, sent as exact bytes over
 * `node:net` sockets (support/chaos-cases.ts; the concurrent twins and
 * overlaps are in chaos-twins.fault.spec.ts). After every case: the process
 * is alive and logged no unhandled error; a request sent whole got an answer;
 * the answer is a 4xx in frago's body (never 5xx, no stack, no server path);
 * and nothing was recorded (no chunk, no byte, no new file).
 *
 * Reproduce a failure with the seed and path it prints:
 *   FRAGO_CHAOS_SEED=<seed> FRAGO_CHAOS_PATH=<path> FRAGO_CHAOS_FAMILY=<family> npm test -- chaos
 * FRAGO_CHAOS_RUNS=<factor> multiplies every family's run count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { databaseKinds } from '../helpers/test-databases';
import { getStatus, startOk } from '../helpers/upload-client';
import { sendRequest } from '../helpers/raw-http';
import { listFiles } from './support/files';
import { build, cutPlan, headerPlan, multipartPlan, oddIdPlan, rawPlan, TOTAL, type ChaosPlan } from './support/chaos-cases';
import { checkAnswer, describeFetchFailure, ONLY, runProperty, useChaosApp } from './support/chaos-run';

/** Families and their run counts per database. */
const FAMILIES = {
  multipart: { runs: 50, title: 'malformed, truncated and misleading multipart bodies', plan: multipartPlan as fc.Arbitrary<ChaosPlan> },
  raw: { runs: 40, title: 'raw bodies that disagree with their headers or their own framing', plan: rawPlan as fc.Arbitrary<ChaosPlan> },
  cut: { runs: 30, title: 'connections destroyed mid-body', plan: cutPlan as fc.Arbitrary<ChaosPlan> },
  'odd-id': { runs: 50, title: 'odd ids and paths on every method', plan: oddIdPlan as fc.Arbitrary<ChaosPlan> },
  header: { runs: 60, title: 'odd Content-Range, Content-Digest, Content-MD5 and huge headers', plan: headerPlan as fc.Arbitrary<ChaosPlan> },
} as const;

for (const kind of databaseKinds()) {
  describe(`HTTP chaos against the example app process on ${kind}`, () => {
    const c = useChaosApp(kind);

    /** Sends one plan to a fresh upload, then checks the answer, the process, and that nothing was recorded. */
    async function single(plan: ChaosPlan): Promise<void> {
      const { app, dataDir } = c;
      const id = await startOk(app.uploadUrl, `chaos-${c.nextCase()}.bin`, TOTAL);
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
  });
}
