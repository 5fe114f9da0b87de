/**
 * A dead finalizer's claim expires within its short lease
 * (`finalizeLeaseTimeout`), while a live finalizer renews it however long it
 * works. Instance A is SIGKILLed while it holds the claim (hashing a file
 * with an algorithm it did not carry incrementally); instance B's very next
 * finalize completes (201) instead of answering 409 for a minute or more.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import type { AppProcess } from '../helpers/app-process';
import { ProcessFleet } from './support/process-fleet';

const CHUNK = 4 * 1024 * 1024;
const ALGORITHM = 'sha3-512';

const serverKinds = databaseKinds().filter((k) => k !== 'sqlite');

for (const kind of serverKinds) {
  describe(`a finalizer killed with its claim held on ${kind}`, () => {
    const fleet = new ProcessFleet(kind, 'frago-finalize-lease-');

    async function upload(app: AppProcess, data: Buffer): Promise<string> {
      const id = await startOk(app.uploadUrl, 'lease.bin', data.length);
      for (const { start, end } of chunkRanges(data.length, CHUNK)) {
        const answer = await putChunk(app.uploadUrl, id, data.subarray(start, end), start, data.length);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }
      return id;
    }

    it('lets another instance finalize on its first try after the kill (the claim expires within the 2 s lease)', async () => {
      const env = { FRAGO_FINALIZE_LEASE_MS: '2000' };
      const b = await fleet.boot(env);
      const probe = await fleet.openProbe();
      // The claim must be seen held before A finishes: grow the file until A is caught mid-finalize.
      for (let size = 24 * 1024 * 1024; ; size *= 2) {
        assert.ok(size <= 192 * 1024 * 1024, 'A always finished before its claim was observed');
        const a = await fleet.boot(env);
        const data = testBytes(size, 77);
        const id = await upload(b, data);
        const answered = finalize(a.uploadUrl, id, { checksum: digest(data, ALGORITHM), checksum_algo: ALGORITHM }).catch(() => null);
        let state: 'claimed' | 'complete' = 'complete';
        for (;;) {
          const rows = await probe.query<{ status: string; finalizing_until: unknown }>(
            'SELECT status, finalizing_until FROM frago_upload WHERE upload_id = ?',
            [id],
          );
          if (rows[0].status !== 'in_progress') break;
          if (rows[0].finalizing_until !== null) {
            a.signal('SIGKILL');
            state = 'claimed';
            break;
          }
        }
        await a.waitExit(30_000).catch(() => undefined);
        await a.kill();
        await answered;
        if (state === 'complete' || (await probe.uploadStatus(id)) !== 'in_progress') continue;

        const retried = await finalize(b.uploadUrl, id, { checksum: digest(data, ALGORITHM), checksum_algo: ALGORITHM });
        assert.equal(retried.status, 201, `B's first finalize after the kill: ${retried.status} ${JSON.stringify(retried.body)}`);
        assert.deepEqual(readFileSync(join(fleet.dataDir, 'assembled_uploads', 'lease.bin')), data);
        return;
      }
    });
  });
}
