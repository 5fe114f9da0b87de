/** The odd-id and odd-header families of chaos cases: requests to ids that are no upload's, and chunks whose headers are wrong in one way. */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { contentRange, goodChunk, range, rangeData, seed, TOTAL, type ChaosRequest, type Expectation } from './chaos-bytes';

// ---------------------------------------------------------------- odd ids and paths

const oddId = fc.oneof(
  fc.constantFrom(
    '%',
    '%zz',
    '%2',
    '%00',
    '%2e%2e',
    '..',
    '.',
    '%2f',
    '..%2f..%2fetc%2fpasswd',
    '%E0%A4%A',
    '%C0%AF',
    '%ff',
    '~',
    "'",
    '%27%20OR%201%3D1',
    'null',
    'undefined',
    '0',
    '-1',
  ),
  fc.integer({ min: 101, max: 400 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 37, max: 300 }).map((n) => `0123456789abcdef`.repeat(Math.ceil(n / 16)).slice(0, n)),
  fc.uuid().map((id) => `${id}x`),
  fc.uuid().map((id) => `${id}%2f..`),
  fc.uuid().map((id) => id.toUpperCase().replace(/-/g, '')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
    .filter((s) => !/[\s/?#%]/.test(s))
    .map((s) => `raw:${s}`),
);

/** A request to an id that is not an upload's (not a UUID, or no such upload), with every method. */
export const oddIdPlan = fc.record({
  family: fc.constant('odd-id' as const),
  id: oddId,
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'),
  trailingSlash: fc.boolean(),
  multipart: fc.boolean(),
  seed,
});
export type OddIdPlan = typeof oddIdPlan extends fc.Arbitrary<infer T> ? T : never;

export function buildOddId(plan: OddIdPlan, prefix: string): ChaosRequest {
  const raw = plan.id.startsWith('raw:');
  // Raw (unencoded) UTF-8 in the request line, as some clients send it.
  const id = raw ? Buffer.from(plan.id.slice(4), 'utf8').toString('latin1') : plan.id;
  const path = `${prefix}/${id}${plan.trailingSlash ? '/' : ''}`;
  // Node's parser may refuse raw non-ASCII bytes in the request line (400) before any route runs.
  const expect: Expectation = { statuses: raw ? [400, 404] : [404], code: raw ? undefined : 'UPLOAD_NOT_FOUND', mayGoUnanswered: false, protocolLevel: raw };
  if (plan.method === 'PUT') {
    const good = goodChunk({ start: 0, size: 512 }, plan.seed, plan.multipart);
    return { raw: { method: 'PUT', path, headers: [...good.headers, ['Content-Length', String(good.body.length)]], body: [good.body] }, expect };
  }
  if (plan.method === 'POST') {
    const body = Buffer.from(JSON.stringify({ checksum: 'd41d8cd98f00b204e9800998ecf8427e' }));
    return {
      raw: {
        method: 'POST',
        path,
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-Length', String(body.length)],
        ],
        body: [body],
      },
      expect,
    };
  }
  return { raw: { method: plan.method, path, headers: [], body: [] }, expect };
}

// ---------------------------------------------------------------- odd header values

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const b64 = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((a) => Buffer.from(a).toString('base64'));

const headerDefect = fc.oneof(
  fc.record({
    kind: fc.constant('range' as const),
    variant: fc.constantFrom(
      'missing',
      'star-total',
      'star-range',
      'start-after-end',
      'end-at-total',
      'other-total',
      'multi',
      'overflow',
      'spaces',
      'unit',
      'negative',
      'duplicate',
      'empty',
      'no-unit',
      'hex',
      'plus',
    ),
  }),
  fc.record({ kind: fc.constant('range-garbage' as const), value: printable.filter((v) => !/^\s*bytes[ \t]+\d+-\d+\/4096\s*$/i.test(v)) }),
  fc.record({
    kind: fc.constant('digest' as const),
    value: fc.oneof(
      b64(32).map((v) => `sha-256=:${v}:`),
      b64(64).map((v) => `sha-512=:${v}:`),
      b64(31).map((v) => `sha-256=:${v}:`),
      b64(32).map((v) => `sha-512=:${v}:`),
      fc.constantFrom(
        'sha-256=:!!!:',
        'sha-256=::',
        'sha-256=',
        'sha-256',
        'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:',
        'SHA-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:',
      ),
      fc.tuple(printable, b64(32)).map(([junk, v]) => `${junk}, sha-256=:${v}:`),
    ),
  }),
  fc.record({
    kind: fc.constant('md5' as const),
    value: fc.oneof(
      b64(16),
      b64(15),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString('hex')),
      printable,
      fc.constant(''),
    ),
  }),
  fc.record({
    kind: fc.constant('huge-header' as const),
    name: fc.constantFrom('X-Padding', 'Content-Digest', 'Content-Range', 'Cookie'),
    bytes: fc.integer({ min: 17_000, max: 80_000 }),
  }),
  fc.record({ kind: fc.constant('long-digest' as const), bytes: fc.integer({ min: 2_000, max: 12_000 }) }),
);

/** A chunk of the right size whose headers are wrong in exactly one way. */
export const headerPlan = fc.record({ family: fc.constant('header' as const), range, seed, multipart: fc.boolean(), defect: headerDefect });
export type HeaderPlan = typeof headerPlan extends fc.Arbitrary<infer T> ? T : never;

export function buildHeader(plan: HeaderPlan, path: string): ChaosRequest {
  const good = goodChunk(plan.range, plan.seed, plan.multipart);
  const headers = good.headers.filter(([name]) => name !== 'Content-Range');
  const data = rangeData(plan.range, plan.seed);
  const { start, size } = plan.range;
  const end = start + size - 1;
  const expect: Expectation = { statuses: [400], mayGoUnanswered: false, protocolLevel: false };
  const defect = plan.defect;
  const md5OfData = createHash('md5').update(data).digest('base64');
  switch (defect.kind) {
    case 'range': {
      const values: Record<typeof defect.variant, string[]> = {
        missing: [],
        'star-total': [`bytes ${start}-${end}/*`],
        'star-range': [`bytes */${TOTAL}`],
        'start-after-end': [`bytes ${end + 1}-${start}/${TOTAL}`],
        'end-at-total': [`bytes ${start}-${TOTAL}/${TOTAL}`],
        'other-total': [`bytes ${start}-${end}/${TOTAL + 1 + (plan.seed % 5000)}`],
        multi: [`bytes ${start}-${end}/${TOTAL}, bytes ${start}-${end}/${TOTAL}`],
        overflow: [`bytes 99999999999999999999-99999999999999999999/999999999999999999999`],
        spaces: [`bytes ${start} - ${end} / ${TOTAL}`],
        unit: [`items ${start}-${end}/${TOTAL}`],
        negative: [`bytes -${start + 1}-${end}/${TOTAL}`],
        duplicate: [contentRange(plan.range), contentRange(plan.range)],
        empty: [''],
        'no-unit': [`${start}-${end}/${TOTAL}`],
        hex: [`bytes 0x${start.toString(16)}-0x${end.toString(16)}/0x${TOTAL.toString(16)}`],
        plus: [`bytes +${start}-+${end}/+${TOTAL}`],
      };
      for (const value of values[defect.variant]) headers.push(['Content-Range', value]);
      break;
    }
    case 'range-garbage':
      headers.push(['Content-Range', defect.value]);
      break;
    case 'digest':
      headers.push(['Content-Range', contentRange(plan.range)], ['Content-Digest', defect.value]);
      break;
    case 'md5':
      // Never the right digest: a random value equal to it is impossible in practice, but say so.
      headers.push(['Content-Range', contentRange(plan.range)], ['Content-MD5', defect.value === md5OfData ? `${defect.value}x` : defect.value]);
      break;
    case 'huge-header':
      headers.push(
        ['Content-Range', contentRange(plan.range)],
        [defect.name, defect.name === 'Content-Digest' ? `sha-256=:${'A'.repeat(defect.bytes)}:` : 'h'.repeat(defect.bytes)],
      );
      expect.statuses = [400, 413, 431];
      expect.protocolLevel = true;
      break;
    case 'long-digest':
      headers.push(
        ['Content-Range', contentRange(plan.range)],
        ['Content-Digest', `sha-256=:${randomBytes(Math.ceil((defect.bytes * 3) / 4)).toString('base64')}:`],
      );
      break;
  }
  headers.push(['Content-Length', String(good.body.length)]);
  return { raw: { method: 'PUT', path, headers, body: [good.body] }, expect };
}
