/**
 * Pure pieces of the client: chunk planning (property-based), size parsing
 * and backoff bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { planFullUpload, planResume } from 'nestjs-frago-client';
import { join } from 'node:path';
import { REPO_ROOT } from './support/example-app';

// Internal modules (not in the package's exports map), loaded from the build by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a compiled file loaded by a path computed at run time
const internal = (path: string): unknown => require(join(REPO_ROOT, 'libs', 'client', 'dist', path));
const { parseSize } = internal('cli/units.js') as typeof import('../../libs/client/src/cli/units');
const { backoffDelay } = internal('retry.js') as typeof import('../../libs/client/src/retry');

/** Arbitrary: a total size, a chunk size, and a set of disjoint missing ranges inside [0, total). */
const resumeCase = fc
  .record({
    total: fc.integer({ min: 1, max: 5000 }),
    chunkSize: fc.integer({ min: 1, max: 700 }),
    cuts: fc.uniqueArray(fc.integer({ min: 0, max: 4999 }), { maxLength: 12 }),
  })
  .map(({ total, chunkSize, cuts }) => {
    const points = [...new Set(cuts.filter((c) => c < total))].sort((a, b) => a - b);
    const missing = [];
    for (let i = 0; i + 1 < points.length; i += 2) missing.push({ start: points[i], end: points[i + 1] });
    return { total, chunkSize, missing };
  });

describe('chunk plan', () => {
  it('covers every byte once, in order, with pieces of at most chunkSize', () => {
    fc.assert(
      fc.property(resumeCase, ({ total, chunkSize, missing }) => {
        const plan = planResume(total, missing, chunkSize);
        let cursor = 0;
        for (const item of plan) {
          assert.equal(item.start, cursor);
          assert.ok(item.end >= item.start && item.end - item.start + 1 <= chunkSize);
          cursor = item.end + 1;
        }
        assert.equal(cursor, total);
      }),
    );
  });

  it('sends exactly the missing bytes', () => {
    fc.assert(
      fc.property(resumeCase, ({ total, chunkSize, missing }) => {
        const isMissing = (byte: number): boolean => missing.some((r) => r.start <= byte && byte <= r.end);
        for (const item of planResume(total, missing, chunkSize)) {
          for (let byte = item.start; byte <= item.end; byte++) assert.equal(isMissing(byte), item.send, `byte ${byte}`);
        }
      }),
    );
  });

  it('plans a fresh upload of an odd size as ceil(total / chunkSize) pieces, all sent', () => {
    const plan = planFullUpload(5 * 1024 * 1024 + 123, 256 * 1024 + 7);
    assert.equal(plan.length, Math.ceil((5 * 1024 * 1024 + 123) / (256 * 1024 + 7)));
    assert.ok(plan.every((item) => item.send));
    assert.equal(plan.at(-1)!.end, 5 * 1024 * 1024 + 122);
    assert.throws(() => planFullUpload(10, 0), /chunkSize/);
  });
});

describe('CLI sizes', () => {
  it('parses bytes and binary units', () => {
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('512K'), 512 * 1024);
    assert.equal(parseSize('8M'), 8 * 1024 * 1024);
    assert.equal(parseSize('8MiB'), 8 * 1024 * 1024);
    assert.equal(parseSize('1g'), 1024 ** 3);
    for (const bad of ['', '0', '-1', '8X', 'M']) assert.throws(() => parseSize(bad), RangeError, bad);
  });
});

describe('backoff', () => {
  it('grows exponentially, stays within [d/2, d] and is capped', () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffDelay(0, policy, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(0, policy, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(3, policy, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(10, policy, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(10, policy, () => 0),
      500,
    );
  });
});
