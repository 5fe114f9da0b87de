/**
 * A writer that stalls past its reservation lease (GC pause,
 * VM freeze; here SIGSTOP of a whole app instance with a 1 s lease) must
 * never touch the data after another instance took its range over, nor the
 * published file. Instance A starts writing a chunk of garbage and is
 * stopped mid-body; B takes the range over with the right bytes; the
 * upload is finalized as soon as it can be; A is resumed with the rest of
 * its garbage. The published file must be exactly the uploaded data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import type { DbProbe } from './support/db-probe';
import { ProcessFleet, SHORT_LEASE } from './support/process-fleet';
import { openChunk } from './support/open-chunk';

const CHUNK = 256 * 1024;
const serverKinds = databaseKinds().filter((k) => k !== 'sqlite');

for (const kind of serverKinds) {
  describe(`a writer stopped past its lease on ${kind}`, () => {
    const fleet = new ProcessFleet(kind, 'frago-stalled-');

    it('never writes after the takeover or into the published file (SIGSTOP mid-chunk, SIGCONT after B took the range over)', async () => {
      const {
        instances: [a, b],
        probe,
      } = await fleet.start(2, { env: SHORT_LEASE });
      const { dataDir } = fleet;
      const data = testBytes(2 * CHUNK, 31);
      const garbage = Buffer.alloc(CHUNK, 0xee);
      const id = await startOk(b.uploadUrl, 'stalled.bin', data.length);
      assert.equal((await putChunk(b.uploadUrl, id, data.subarray(CHUNK), CHUNK, data.length)).status, 200);

      // A reserves [0, CHUNK) and writes the first half of its garbage, then stops.
      const stalled = openChunk(a.uploadUrl, id, garbage, 0, data.length);
      await stalled.send(CHUNK / 2);
      const dataFile = join(dataDir, 'chunked_uploads', `${id}.part`);
      while (
        readFileSync(dataFile)
          .subarray(0, 4096)
          .some((byte) => byte !== 0xee)
      );
      a.process.kill('SIGSTOP');
      try {
        // Its lease runs out.
        for (;;) {
          const rows = await probe.query<{ lease_until: unknown }>('SELECT lease_until FROM frago_chunk WHERE upload_id = ? AND range_start = 0', [id]);
          if (rows.length === 1 && Number(rows[0].lease_until) < Date.now()) break;
        }
        // B takes the range over with the right bytes, and the upload is finalized as soon as it can be.
        const takeover = putChunk(b.uploadUrl, id, data.subarray(0, CHUNK), 0, data.length);
        const watch = { stop: false };
        const first = await Promise.race([
          takeover.then((answer) => ({ kind: 'answered' as const, answer })),
          waitForBlockedTakeover(probe, id, dataFile, watch).then(() => ({ kind: 'waiting' as const })),
        ]);
        watch.stop = true;
        let finalized: JsonResponse | null = null;
        if (first.kind === 'answered') {
          assert.equal(first.answer.status, 200, JSON.stringify(first.answer.body));
          finalized = await finalize(b.uploadUrl, id, { checksum: digest(data) });
        }
        // A resumes with the rest of its garbage.
        a.process.kill('SIGCONT');
        await stalled.finish();
        const outcome = await stalled.outcome;
        assert.ok(!('status' in outcome) || outcome.status !== 200, `A's stale write was acknowledged: ${JSON.stringify(outcome)}`);
        assert.equal((await takeover).status, 200);
        finalized ??= await finalize(b.uploadUrl, id, { checksum: digest(data) });
        assert.equal(finalized.status, 201, JSON.stringify(finalized.body));
        // A has settled its write (answered); whatever it had buffered had its chance to land.
        const published = readFileSync(join(dataDir, 'assembled_uploads', 'stalled.bin'));
        const changed = published.reduce((count, byte, i) => count + (byte === data[i] ? 0 : 1), 0);
        assert.equal(changed, 0, `${changed} bytes of the published file differ from the verified upload`);
      } finally {
        if (a.running()) a.process.kill('SIGCONT');
      }
    });
  });
}

/**
 * Resolves once the taker-over is seen waiting: its reservation of [0, …) is
 * live and has been renewed (so it has existed for a while), yet not one of
 * its bytes reached the data file, which still starts with A's garbage. A
 * writer that is not held back writes its first bytes within moments.
 */
async function waitForBlockedTakeover(probe: DbProbe, id: string, dataFile: string, watch: { stop: boolean }): Promise<void> {
  const leases = new Set<number>();
  while (!watch.stop) {
    const rows = await probe.query<{ lease_until: unknown; committed: unknown }>(
      'SELECT lease_until, committed FROM frago_chunk WHERE upload_id = ? AND range_start = 0',
      [id],
    );
    const committed = rows[0]?.committed === true || Number(rows[0]?.committed) === 1;
    if (rows.length === 1 && !committed && Number(rows[0].lease_until) > Date.now()) leases.add(Number(rows[0].lease_until));
    const untouched = readFileSync(dataFile)
      .subarray(0, 4096)
      .every((byte) => byte === 0xee);
    if (leases.size >= 3 && untouched) return;
  }
  await new Promise<never>(() => undefined); // stopped: the race was decided by the answer
}
