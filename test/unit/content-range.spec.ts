import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseContentRange } from 'nestjs-frago/dist/http/content-range';
import { FragoError } from 'nestjs-frago';

/** Asserts `header` is refused as an invalid Content-Range (400). */
function refused(header: string | string[] | undefined): void {
  assert.throws(
    () => parseContentRange(header),
    (error: unknown) => error instanceof FragoError && error.code === 'INVALID_CONTENT_RANGE',
    `should refuse ${JSON.stringify(header)}`,
  );
}

describe('parseContentRange', () => {
  it('parses "bytes START-END/TOTAL" with END inclusive and size = END − START + 1', () => {
    assert.deepEqual(parseContentRange('bytes 0-0/1'), { start: 0, end: 0, total: 1, size: 1 });
    assert.deepEqual(parseContentRange('bytes 0-1048575/5000000'), { start: 0, end: 1048575, total: 5000000, size: 1048576 });
    assert.deepEqual(parseContentRange('bytes 4999999-4999999/5000000'), { start: 4999999, end: 4999999, total: 5000000, size: 1 });
  });

  it('accepts any case of "bytes", tabs and surrounding whitespace', () => {
    assert.deepEqual(parseContentRange('BYTES 1-2/3'), { start: 1, end: 2, total: 3, size: 2 });
    assert.deepEqual(parseContentRange('bytes\t1-2/3'), { start: 1, end: 2, total: 3, size: 2 });
    assert.deepEqual(parseContentRange('  bytes 1-2/3  '), { start: 1, end: 2, total: 3, size: 2 });
  });

  it('parses 64-bit offsets exactly (above 2^32 and up to 2^53 − 1)', () => {
    assert.deepEqual(parseContentRange('bytes 5368709120-5368710143/6442450944'), { start: 5368709120, end: 5368710143, total: 6442450944, size: 1024 });
    const max = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(parseContentRange(`bytes ${max - 2}-${max - 2}/${max - 1}`).start, max - 2);
  });

  it('refuses a missing, empty or repeated header', () => {
    refused(undefined);
    refused('');
    refused(['bytes 0-1/2', 'bytes 0-1/2']);
  });

  it('refuses malformed headers', () => {
    for (const header of [
      'bytes=0-1/2',
      'items 0-1/2',
      'bytes 0-1',
      'bytes 0-1/*',
      'bytes */2',
      'bytes 0 - 1/2',
      'bytes -1-0/2',
      'bytes 0.5-1/2',
      'bytes a-b/c',
      '0-1/2',
      'bytes0-1/2',
      'bytes 0-1/2 extra',
      'bytes 0-1/2, bytes 2-3/4',
      'bytes +0-1/2',
      'bytes 0x0-1/2',
      'bytes 1e2-1e3/1e4',
      'bytes ١-٢/٣',
    ]) {
      refused(header);
    }
  });

  it('refuses START > END and END ≥ TOTAL', () => {
    refused('bytes 1-0/5');
    refused('bytes 0-5/5');
    refused('bytes 3-7/5');
    refused('bytes 0-0/0');
  });

  it('refuses values beyond 2^53 − 1 instead of rounding them', () => {
    refused('bytes 0-1/99999999999999999');
    refused(`bytes 0-1/${2 ** 53}`);
    refused('bytes 0-1/12345678901234567890');
  });

  it('round-trips every valid range (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 30 }), fc.integer({ min: 1, max: 2 ** 30 }), (start, length, extra) => {
        const end = start + length;
        const total = end + extra;
        assert.deepEqual(parseContentRange(`bytes ${start}-${end}/${total}`), { start, end, total, size: length + 1 });
      }),
    );
  });

  it('never accepts END ≥ TOTAL or START > END (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 40 }), (start, end, total) => {
        fc.pre(start > end || end >= total);
        refused(`bytes ${start}-${end}/${total}`);
      }),
    );
  });
});
