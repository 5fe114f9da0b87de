import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planParts } from 'nestjs-frago/dist/s3/part-plan';

const MIN = 5;

function chainOf(sizes: number[]): { key: string; start: number; end: number }[] {
  let offset = 0;
  return sizes.map((size, i) => {
    const segment = { key: `c${i}`, start: offset, end: offset + size - 1 };
    offset += size;
    return segment;
  });
}

describe('planParts (S3 multipart composition)', () => {
  it('copies every chunk of at least the minimum as its own part', () => {
    const parts = planParts(chainOf([5, 8, 6, 2]), MIN);
    assert.deepEqual(parts.map((p) => p.kind), ['copy', 'copy', 'copy', 'copy']);
  });

  it('gathers small chunks and takes only the missing bytes from the next large one', () => {
    const parts = planParts(chainOf([1, 1, 12]), MIN);
    assert.deepEqual(parts.map((p) => [p.kind, p.size]), [['stream', 5], ['copy', 9]]);
  });

  it('for any chunk sizes: parts cover the bytes in order, each but the last at least the minimum', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 14 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const parts = planParts(chainOf(sizes), MIN);
        const chain = chainOf(sizes);
        const bytes: string[] = [];
        for (const part of parts) {
          const sources = part.kind === 'copy' ? [part.source] : part.sources;
          for (const s of sources) for (let b = s.from; b <= s.to; b++) bytes.push(`${s.key}:${b}`);
        }
        const expected = chain.flatMap((c) => Array.from({ length: c.end - c.start + 1 }, (_, b) => `${c.key}:${b}`));
        assert.deepEqual(bytes, expected);
        parts.slice(0, -1).forEach((part) => assert.ok(part.size >= MIN, JSON.stringify(parts)));
        assert.deepEqual(parts.map((p) => p.number), parts.map((_, i) => i + 1));
        if (sizes.slice(0, -1).every((size) => size >= MIN)) assert.ok(parts.every((p) => p.kind === 'copy'));
      }),
    );
  });
});
