/**
 * SIGTERM while chunks are in flight. Clients that
 * finish their body during the grace period get their answer; slow clients
 * that never finish are cut and their chunks are discarded whole. The
 * process exits within a bounded time, and a restarted app resumes and
 * completes the upload byte for byte.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { ProcessFleet } from './support/process-fleet';
import { resendAndFinalize } from './support/resume';
import { openChunk, type OpenChunk, type OpenChunkOutcome } from './support/open-chunk';

const CHUNK = 128 * 1024;
const EXIT_BOUND_MS = 15_000;
const kind = databaseKinds().find((k) => k !== 'sqlite') ?? 'sqlite';
const key = (range: { start: number; end: number }): string => `${range.start}-${range.end}`;

describe(`SIGTERM with chunks in flight (${kind})`, () => {
  const fleet = new ProcessFleet(kind, 'frago-shutdown-');
  const timers = new Set<NodeJS.Timeout>();
  after(() => {
    for (const timer of timers) clearInterval(timer);
  });

  it('finishes or discards in-flight chunks whole, exits in bounded time, and a restarted app completes the upload', async () => {
    const env = { FRAGO_CHUNK_LEASE_MS: '1500', FRAGO_SHUTDOWN_GRACE_MS: '4000' };
    const data = testBytes(8 * CHUNK, 61);
    const ranges = chunkRanges(data.length, CHUNK).map(({ start, end }) => ({ start, end: end - 1 }));
    const body = (range: { start: number; end: number }): Buffer => data.subarray(range.start, range.end + 1);
    const first = await fleet.boot(env);
    const id = await startOk(first.uploadUrl, 'shutdown.bin', data.length);
    const acknowledged = new Set<string>();
    for (const range of ranges.slice(0, 2)) {
      assert.equal((await putChunk(first.uploadUrl, id, body(range), range.start, data.length)).status, 200);
      acknowledged.add(key(range));
    }

    const open = (range: { start: number; end: number }, i: number): OpenChunk =>
      openChunk(first.uploadUrl, id, body(range), range.start, data.length, { multipart: i % 2 === 1 });
    const finishers = ranges.slice(2, 4).map(open);
    const slowRanges = ranges.slice(4, 6);
    const slow = slowRanges.map(open);
    await Promise.all([...finishers, ...slow].map((chunk) => chunk.send(CHUNK / 2)));
    // Slow clients keep trickling a few bytes, so they are busy, not idle, and never done.
    for (const chunk of slow) {
      const timer = setInterval(() => void chunk.send(16), 200);
      timers.add(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalledAt = Date.now();
    first.signal('SIGTERM');
    await Promise.all(finishers.map((chunk) => chunk.finish()));
    const exit = await first.waitExit(EXIT_BOUND_MS + 5_000);
    const took = Date.now() - signalledAt;
    assert.ok(took < EXIT_BOUND_MS, `exited after ${took} ms`);
    assert.equal(exit.signal === 'SIGKILL', false, 'exited on its own');
    for (const timer of timers) clearInterval(timer);

    const finisherOutcomes: OpenChunkOutcome[] = await Promise.all(finishers.map((chunk) => chunk.outcome));
    // Bodies completed within the grace period are stored and acknowledged.
    finisherOutcomes.forEach((outcome, i) => {
      assert.ok('status' in outcome && outcome.status === 200, `finisher answered ${JSON.stringify(outcome)}`);
      acknowledged.add(key(ranges[2 + i]));
    });
    for (const outcome of await Promise.all(slow.map((chunk) => chunk.outcome))) {
      assert.ok(!('status' in outcome) || outcome.status !== 200, 'a chunk whose body never finished was acknowledged');
    }

    const second = await fleet.boot(env);
    const status = await getStatus(second.uploadUrl, id);
    const counted = new Set((status.body.chunks as Array<{ start: number; end: number }>).map(key));
    for (const range of acknowledged) assert.ok(counted.has(range), `acknowledged chunk ${range} was lost`);
    for (const range of slowRanges) assert.ok(!counted.has(key(range)), `unfinished chunk ${key(range)} counts`);
    const missing = ranges.filter((range) => !counted.has(key(range)));
    await resendAndFinalize(second, { id, data, name: 'shutdown.bin', dataDir: fleet.dataDir }, missing);
  });
});
