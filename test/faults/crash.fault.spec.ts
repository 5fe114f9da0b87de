/**
 * The example app is SIGKILLed with chunks in flight,
 * restarted on the same database and data folder, and the client resumes
 * from GET status. Every chunk the server acknowledged survives; no chunk
 * whose body was cut short counts; the assembled file equals the source.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { ProcessFleet } from './support/process-fleet';
import { resendAndFinalize } from './support/resume';
import { openChunk, type OpenChunk } from './support/open-chunk';
import { listFiles } from './support/files';

const CHUNK = 128 * 1024;
const key = (range: { start: number; end: number }): string => `${range.start}-${range.end}`;

// The server databases; SQLite only when none is configured (it adds nothing the others do not cover).
const serverKinds = databaseKinds().filter((k) => k !== 'sqlite');

for (const kind of serverKinds.length > 0 ? serverKinds : databaseKinds()) {
  describe(`kill -9 mid-upload, restart, resume on ${kind}`, () => {
    const fleet = new ProcessFleet(kind, 'frago-crash-');

    it('keeps every acknowledged chunk, counts no half-written chunk, and assembles the exact bytes after resume', async () => {
      const env = { FRAGO_CHUNK_LEASE_MS: '1500' };
      const data = testBytes(17 * CHUNK + 4321, 11);
      const ranges = chunkRanges(data.length, CHUNK).map(({ start, end }) => ({ start, end: end - 1 }));
      const first = await fleet.boot(env);
      const id = await startOk(first.uploadUrl, 'crash.bin', data.length);
      const acknowledged = new Set<string>();

      // Acknowledged before the crash.
      for (const range of ranges.slice(0, 6)) {
        const answer = await putChunk(first.uploadUrl, id, data.subarray(range.start, range.end + 1), range.start, data.length);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        acknowledged.add(key(range));
      }
      // Half-sent bodies that will never complete (raw and multipart).
      const halfRanges = ranges.slice(6, 9);
      const halves: OpenChunk[] = halfRanges.map((range, i) =>
        openChunk(first.uploadUrl, id, data.subarray(range.start, range.end + 1), range.start, data.length, { multipart: i % 2 === 1 }),
      );
      await Promise.all(halves.map((half) => half.send(CHUNK / 2)));
      // Whole chunks racing the kill: each either got its 200 (and must survive) or not.
      const racing = ranges.slice(9, 13).map(async (range) => {
        const answer = await putChunk(first.uploadUrl, id, data.subarray(range.start, range.end + 1), range.start, data.length).catch(() => null);
        if (answer?.status === 200) acknowledged.add(key(range));
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      first.signal('SIGKILL');
      await first.waitExit(10_000);
      await Promise.all(racing);
      await Promise.all(halves.map((half) => half.outcome));

      const second = await fleet.boot(env);
      const status = await getStatus(second.uploadUrl, id);
      assert.equal(status.status, 200);
      const counted = new Set((status.body.chunks as Array<{ start: number; end: number }>).map(key));
      for (const range of acknowledged) assert.ok(counted.has(range), `acknowledged chunk ${range} was lost`);
      for (const range of halfRanges) assert.ok(!counted.has(key(range)), `half-written chunk ${key(range)} counts`);
      for (const range of counted)
        assert.ok(
          ranges.some((r) => key(r) === range),
          `unexpected chunk ${range}`,
        );
      assert.equal(
        status.body.received_bytes,
        [...counted].reduce((sum, r) => sum + Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1, 0),
      );

      // Resume: send exactly what status says is missing (a dead writer's range frees when its lease ends).
      const missing = ranges.filter((range) => !counted.has(key(range)));
      assert.ok(missing.length >= halfRanges.length);
      await resendAndFinalize(second, { id, data, name: 'crash.bin', dataDir: fleet.dataDir }, missing);
      assert.deepEqual(listFiles(join(fleet.dataDir, 'chunked_uploads')), [], 'no chunk data left after completion');
    });
  });
}
