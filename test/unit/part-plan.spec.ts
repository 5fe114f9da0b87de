import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_PARTS, planParts } from 'nestjs-frago/dist/s3/part-plan';

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
    assert.deepEqual(
      parts.map((p) => p.kind),
      ['copy', 'copy', 'copy', 'copy'],
    );
  });

  it('gathers small chunks and takes only the missing bytes from the next large one', () => {
    const parts = planParts(chainOf([1, 1, 12]), MIN);
    assert.deepEqual(
      parts.map((p) => [p.kind, p.size]),
      [
        ['stream', 5],
        ['copy', 9],
      ],
    );
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
        assert.deepEqual(
          parts.map((p) => p.number),
          parts.map((_, i) => i + 1),
        );
        if (sizes.slice(0, -1).every((size) => size >= MIN)) assert.ok(parts.every((p) => p.kind === 'copy'));
      }),
    );
  });

  it('never plans more parts than the engine allows: too many chunks are gathered into bigger parts', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 14 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (sizes, maxParts) => {
        const parts = planParts(chainOf(sizes), MIN, maxParts);
        assert.ok(parts.length <= maxParts, `${parts.length} parts for at most ${maxParts}: ${JSON.stringify(parts)}`);
        const total = sizes.reduce((a, b) => a + b, 0);
        assert.equal(
          parts.reduce((sum, p) => sum + p.size, 0),
          total,
        );
        parts.slice(0, -1).forEach((part) => assert.ok(part.size >= MIN, JSON.stringify(parts)));
      }),
    );
  });

  it('10 001 chunks of 5 MiB (S3 allows 10 000 parts) become at most 10 000 parts', () => {
    const MiB = 1024 * 1024;
    const parts = planParts(chainOf(Array.from({ length: MAX_PARTS + 1 }, () => 5 * MiB)), 5 * MiB);
    assert.ok(parts.length <= MAX_PARTS, `${parts.length} parts`);
    assert.equal(parts.filter((p) => p.kind === 'stream').length > 0, true, 'some chunks were gathered');
  });
});
