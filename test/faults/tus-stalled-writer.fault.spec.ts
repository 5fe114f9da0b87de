/**
 * The fencing of test/faults/stalled-writer, for tus PATCH writes (the
 * same guarantees as frago chunks): a PATCH whose writer stalls past its
 * reservation lease (here SIGSTOP of a whole app instance with a 1 s lease)
 * must never touch the data after another instance's PATCH took its range
 * over, nor the published file (a hard link of the data file on local disk).
 *
 * Instance B stores the first half; A starts a PATCH of garbage for the
 * second half and is stopped mid-body; B PATCHes the right bytes at the same
 * offset (taking the stale range over), which completes and publishes the
 * upload as soon as it can; A is resumed with the rest of its garbage. The
 * published file must be exactly the uploaded data, and A's PATCH is not
 * acknowledged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { databaseKinds } from '../helpers/test-databases';
import { getStatus, testBytes } from '../helpers/upload-client';
import type { DbProbe } from './support/db-probe';
import { ProcessFleet, SHORT_LEASE } from './support/process-fleet';
import { createTus, headTus, metadata, openPatch, patchTus } from '../tus/support/tus-http';

const CHUNK = 256 * 1024;
const serverKinds = databaseKinds().filter((k) => k !== 'sqlite');

/** Polls `condition` (a file or a row, which have no event to wait on) until it holds. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await delay(5);
}

for (const kind of serverKinds) {
  describe(`a tus PATCH writer stopped past its lease on ${kind}`, () => {
    const fleet = new ProcessFleet(kind, 'frago-tus-stalled-');

    it('never writes after the takeover or into the published file (SIGSTOP mid-PATCH, SIGCONT after B took the range over)', async () => {
      const {
        instances: [a, b],
        probe,
      } = await fleet.start(2, { env: SHORT_LEASE });
      const { dataDir } = fleet;
      const data = testBytes(2 * CHUNK, 37);
      const garbage = Buffer.alloc(CHUNK, 0xee);
      const created = await createTus(`${b.apiUrl}/files/`, {
        'upload-length': String(data.length),
        'upload-metadata': metadata({ filename: 'tus-stalled.bin' }),
      });
      assert.equal(created.response.status, 201);
      const id = created.id;
      const onA = `${a.apiUrl}/files/${id}`;
      const onB = `${b.apiUrl}/files/${id}`;
      assert.equal((await patchTus(onB, 0, data.subarray(0, CHUNK))).status, 204);

      // A reserves [CHUNK, 2 CHUNK) and writes the first half of its garbage, then stops.
      const stalled = openPatch(onA, CHUNK, CHUNK, garbage.subarray(0, CHUNK / 2));
      const dataFile = join(dataDir, 'chunked_uploads', `${id}.part`);
      const secondHalf = (): Buffer => readFileSync(dataFile).subarray(CHUNK, CHUNK + 4096);
      await until(() => secondHalf().every((byte) => byte === 0xee));
      a.process.kill('SIGSTOP');
      try {
        // Its lease runs out.
        await until(async () => {
          const rows = await probe.query<{ lease_until: unknown }>('SELECT lease_until FROM frago_chunk WHERE upload_id = ? AND range_start = ?', [id, CHUNK]);
          return rows.length === 1 && Number(rows[0].lease_until) < Date.now();
        });
        // B PATCHes the right bytes at the same offset: it takes the stale range over, and its last byte publishes the upload.
        const takeover = patchTus(onB, CHUNK, data.subarray(CHUNK));
        const watch = { stop: false };
        const first = await Promise.race([
          takeover.then((answer) => ({ kind: 'answered' as const, status: answer.status })),
          waitForBlockedTakeover(probe, id, secondHalf, watch).then(() => ({ kind: 'waiting' as const })),
        ]);
        watch.stop = true;
        if (first.kind === 'answered') assert.equal(first.status, 204);
        // A resumes with the rest of its garbage.
        a.process.kill('SIGCONT');
        const staleStatus = await stalled.finish(garbage.subarray(CHUNK / 2));
        assert.notEqual(staleStatus, 204, "A's stale PATCH was acknowledged");
        const answer = await takeover;
        assert.equal(answer.status, 204);
        assert.equal(answer.headers.get('upload-offset'), String(data.length));
        // Both writes have settled: whatever A had buffered had its chance to land.
        const head = await headTus(onB);
        assert.equal(head.headers.get('upload-offset'), String(data.length));
        assert.equal((await getStatus(b.uploadUrl, id)).body.status, 'complete');
        const published = readFileSync(join(dataDir, 'assembled_uploads', 'tus-stalled.bin'));
        assert.equal(published.length, data.length);
        const changed = published.reduce((count, byte, i) => count + (byte === data[i] ? 0 : 1), 0);
        assert.equal(changed, 0, `${changed} bytes of the published file differ from the uploaded data`);
      } finally {
        if (a.running()) a.process.kill('SIGCONT');
      }
    });
  });
}

/**
 * Resolves once B's PATCH is seen held back: its reservation of
 * [CHUNK, …) is live and has been renewed (so it has existed for a while),
 * yet not one of its bytes reached the data file, which still holds A's
 * garbage there. A writer that is not held back writes its first bytes
 * within moments (and then completes the upload).
 */
async function waitForBlockedTakeover(probe: DbProbe, id: string, secondHalf: () => Buffer, watch: { stop: boolean }): Promise<void> {
  const leases = new Set<number>();
  while (!watch.stop) {
    const rows = await probe.query<{ lease_until: unknown; committed: unknown }>(
      'SELECT lease_until, committed FROM frago_chunk WHERE upload_id = ? AND range_start = ?',
      [id, CHUNK],
    );
    const committed = rows[0]?.committed === true || Number(rows[0]?.committed) === 1;
    if (rows.length === 1 && !committed && Number(rows[0].lease_until) > Date.now()) leases.add(Number(rows[0].lease_until));
    const untouched = secondHalf().every((byte) => byte === 0xee);
    if (leases.size >= 3 && untouched) return;
    await delay(5);
  }
  await new Promise<never>(() => undefined); // stopped: the race was decided by the answer
}
