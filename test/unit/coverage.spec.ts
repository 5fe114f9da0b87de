import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeCoverage } from 'nestjs-frago/dist/domain/coverage';

type Range = { start: number; end: number };

/** The obvious reference: mark every byte. */
function bruteForce(ranges: Range[], totalSize: number): { receivedBytes: number; missing: Range[] } {
  const covered = new Array<boolean>(totalSize).fill(false);
  for (const { start, end } of ranges) for (let i = Math.max(0, start); i <= Math.min(end, totalSize - 1); i++) covered[i] = true;
  const missing: Range[] = [];
  for (let i = 0; i < totalSize; i++) {
    if (covered[i]) continue;
    const last = missing[missing.length - 1];
    if (last && last.end === i - 1) last.end = i;
    else missing.push({ start: i, end: i });
  }
  return { receivedBytes: covered.filter(Boolean).length, missing };
}

describe('computeCoverage', () => {
  it('reports everything missing when no chunk is stored', () => {
    assert.deepEqual(computeCoverage([], 100), { receivedBytes: 0, missing: [{ start: 0, end: 99 }] });
  });

  it('reports nothing missing when the chunks cover every byte, in any order', () => {
    const chunks = [
      { start: 50, end: 99 },
      { start: 0, end: 24 },
      { start: 25, end: 49 },
    ];
    assert.deepEqual(computeCoverage(chunks, 100), { receivedBytes: 100, missing: [] });
  });

  it('reports gaps at the start, in the middle and at the end', () => {
    assert.deepEqual(computeCoverage([{ start: 10, end: 99 }], 100).missing, [{ start: 0, end: 9 }]);
    assert.deepEqual(
      computeCoverage(
        [
          { start: 0, end: 9 },
          { start: 20, end: 99 },
        ],
        100,
      ).missing,
      [{ start: 10, end: 19 }],
    );
    assert.deepEqual(computeCoverage([{ start: 0, end: 89 }], 100).missing, [{ start: 90, end: 99 }]);
    assert.deepEqual(
      computeCoverage(
        [
          { start: 5, end: 9 },
          { start: 50, end: 59 },
        ],
        100,
      ).missing,
      [
        { start: 0, end: 4 },
        { start: 10, end: 49 },
        { start: 60, end: 99 },
      ],
    );
  });

  it('finds one missing byte between adjacent-looking chunks', () => {
    assert.deepEqual(
      computeCoverage(
        [
          { start: 0, end: 99 },
          { start: 101, end: 200 },
        ],
        201,
      ),
      {
        receivedBytes: 200,
        missing: [{ start: 100, end: 100 }],
      },
    );
  });

  it('counts overlapping bytes once: coverage, not a sum of sizes', () => {
    // Sizes add up to the total, yet byte 150-199 is missing.
    const result = computeCoverage(
      [
        { start: 0, end: 99 },
        { start: 50, end: 149 },
      ],
      200,
    );
    assert.deepEqual(result, { receivedBytes: 150, missing: [{ start: 150, end: 199 }] });
    assert.deepEqual(
      computeCoverage(
        [
          { start: 0, end: 99 },
          { start: 0, end: 99 },
          { start: 10, end: 20 },
        ],
        100,
      ),
      { receivedBytes: 100, missing: [] },
    );
  });

  it('ignores bytes outside [0, totalSize)', () => {
    assert.deepEqual(computeCoverage([{ start: 90, end: 150 }], 100), { receivedBytes: 10, missing: [{ start: 0, end: 89 }] });
  });

  it('handles 64-bit offsets exactly', () => {
    const GiB = 1024 ** 3;
    assert.deepEqual(computeCoverage([{ start: 5 * GiB, end: 5 * GiB + 1023 }], 6 * GiB), {
      receivedBytes: 1024,
      missing: [
        { start: 0, end: 5 * GiB - 1 },
        { start: 5 * GiB + 1024, end: 6 * GiB - 1 },
      ],
    });
  });

  it('does not modify its input', () => {
    const chunks = [
      { start: 50, end: 99 },
      { start: 0, end: 49 },
    ];
    const copy = structuredClone(chunks);
    computeCoverage(chunks, 100);
    assert.deepEqual(chunks, copy);
  });

  it('agrees with a byte-by-byte count for any set of ranges (property)', () => {
    const arbitrary = fc.integer({ min: 1, max: 200 }).chain((totalSize) =>
      fc.tuple(
        fc.constant(totalSize),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: totalSize + 5 }), fc.nat({ max: 60 })).map(([start, length]) => ({ start, end: start + length })),
          { maxLength: 12 },
        ),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([totalSize, ranges]) => {
        assert.deepEqual(computeCoverage(ranges, totalSize), bruteForce(ranges, totalSize));
      }),
      { numRuns: 500 },
    );
  });
});
