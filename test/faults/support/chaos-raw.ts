/** The raw-body and cut-connection families of chaos cases. */
import fc from 'fast-check';
import { testBytes } from '../../helpers/upload-client';
import {
  chunked,
  CLIENT_ERRORS,
  contentRange,
  CRLF,
  goodChunk,
  MAX_CHUNK,
  MAX_PIECES,
  range,
  rangeData,
  seed,
  split,
  TOTAL,
  type ChaosRequest,
  type Expectation,
} from './chaos-bytes';

// ---------------------------------------------------------------- raw bodies

const rawDefect = fc.oneof(
  fc.record({ kind: fc.constant('length-mismatch' as const), delta: fc.integer({ min: -1024, max: 64 }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant('chunked-wrong-size' as const), delta: fc.integer({ min: -1024, max: 64 }).filter((d) => d !== 0) }),
  fc.record({
    kind: fc.constant('chunked-bad-framing' as const),
    variant: fc.constantFrom('bad-hex', 'missing-crlf', 'size-too-big', 'negative', 'no-terminator-fin'),
  }),
  fc.record({ kind: fc.constant('body-short-fin' as const), missing: fc.integer({ min: 1, max: 1024 }) }),
  fc.record({ kind: fc.constant('length-and-chunked' as const) }),
  fc.record({ kind: fc.constant('duplicate-length' as const), delta: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('bad-length' as const), value: fc.constantFrom('-1', 'abc', '1e3', '0x10', ' ', '99999999999999999999', '1,1') }),
  fc.record({
    kind: fc.constant('content-type' as const),
    value: fc.constantFrom(
      'text/plain',
      'application/json',
      'application/x-www-form-urlencoded',
      'application/octet-streamx',
      'application/octet',
      'image/png',
      '',
      ';',
      'multipart/form-data',
    ),
  }),
  fc.record({ kind: fc.constant('oversize' as const), extra: fc.integer({ min: 1, max: 64 * 1024 }) }),
);

/** A raw (application/octet-stream) chunk body that disagrees with its headers or its own framing. */
export const rawPlan = fc.record({ family: fc.constant('raw' as const), range, seed, defect: rawDefect, pieces: fc.integer({ min: 1, max: MAX_PIECES }) });
export type RawPlan = typeof rawPlan extends fc.Arbitrary<infer T> ? T : never;

export function buildRaw(plan: RawPlan, path: string): ChaosRequest {
  const data = rangeData(plan.range, plan.seed);
  const headers: Array<[string, string]> = [
    ['Content-Range', contentRange(plan.range)],
    ['Content-Type', 'application/octet-stream'],
  ];
  const expect: Expectation = { statuses: CLIENT_ERRORS, mayGoUnanswered: false, protocolLevel: false };
  let body: Buffer[] = split(data, plan.pieces, plan.seed);
  let endAfterBody = false;
  const defect = plan.defect;
  switch (defect.kind) {
    case 'length-mismatch': {
      const sized = testBytes(Math.max(0, plan.range.size + defect.delta), plan.seed);
      headers.push(['Content-Length', String(sized.length)]);
      body = split(sized, plan.pieces, plan.seed);
      break;
    }
    case 'chunked-wrong-size':
      headers.push(['Transfer-Encoding', 'chunked']);
      body = chunked(split(testBytes(Math.max(0, plan.range.size + defect.delta), plan.seed), plan.pieces, plan.seed));
      break;
    case 'chunked-bad-framing': {
      headers.push(['Transfer-Encoding', 'chunked']);
      expect.protocolLevel = true;
      const framed = {
        'bad-hex': [Buffer.from(`zz${CRLF}`), data, Buffer.from(`${CRLF}0${CRLF}${CRLF}`)],
        'missing-crlf': [Buffer.from(`${data.length.toString(16)}${CRLF}`), data, Buffer.from(`0${CRLF}${CRLF}`)],
        'size-too-big': [Buffer.from(`fffffffffffffffff${CRLF}`), data, Buffer.from(`${CRLF}0${CRLF}${CRLF}`)],
        negative: [Buffer.from(`-1${CRLF}`), data, Buffer.from(`${CRLF}0${CRLF}${CRLF}`)],
        'no-terminator-fin': [Buffer.from(`${data.length.toString(16)}${CRLF}`), data, Buffer.from(CRLF)],
      }[defect.variant];
      body = framed;
      if (defect.variant === 'no-terminator-fin') {
        endAfterBody = true;
        expect.mayGoUnanswered = true;
      }
      break;
    }
    case 'body-short-fin':
      headers.push(['Content-Length', String(data.length)]);
      body = [data.subarray(0, Math.max(0, data.length - defect.missing))];
      endAfterBody = true;
      expect.mayGoUnanswered = true;
      expect.protocolLevel = true;
      break;
    case 'length-and-chunked':
      headers.push(['Content-Length', String(data.length)], ['Transfer-Encoding', 'chunked']);
      body = chunked(split(data, plan.pieces, plan.seed));
      expect.protocolLevel = true;
      break;
    case 'duplicate-length':
      headers.push(['Content-Length', String(data.length)], ['Content-Length', String(data.length + defect.delta)]);
      expect.protocolLevel = true;
      break;
    case 'bad-length':
      headers.push(['Content-Length', defect.value]);
      expect.protocolLevel = true;
      break;
    case 'content-type':
      headers[1] = ['Content-Type', defect.value];
      headers.push(['Content-Length', String(data.length)]);
      break;
    case 'oversize': {
      const size = MAX_CHUNK + defect.extra;
      const start = 0;
      headers[0] = ['Content-Range', `bytes ${start}-${start + size - 1}/${TOTAL + MAX_CHUNK * 2}`];
      const big = Buffer.alloc(size, 7);
      headers.push(['Content-Length', String(size)]);
      body = split(big, plan.pieces, plan.seed);
      break;
    }
  }
  return { raw: { method: 'PUT', path, headers, body, endAfterBody }, expect };
}

// ---------------------------------------------------------------- cut connections

/** A well-formed chunk whose connection is destroyed before its last byte. */
export const cutPlan = fc.record({
  family: fc.constant('cut' as const),
  range,
  seed,
  multipart: fc.boolean(),
  chunkedEncoding: fc.boolean(),
  at: fc.double({ min: 0, max: 0.999, noNaN: true }),
  pieces: fc.integer({ min: 1, max: MAX_PIECES }),
});
export type CutPlan = typeof cutPlan extends fc.Arbitrary<infer T> ? T : never;

export function buildCut(plan: CutPlan, path: string): ChaosRequest {
  const good = goodChunk(plan.range, plan.seed, plan.multipart);
  const headers = good.headers;
  let pieces = split(good.body, plan.pieces, plan.seed);
  if (plan.chunkedEncoding) {
    headers.push(['Transfer-Encoding', 'chunked']);
    pieces = chunked(pieces);
  } else {
    headers.push(['Content-Length', String(good.body.length)]);
  }
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  // Never the last byte (of the data or of the chunked terminator): the request stays incomplete.
  const lastUseful = plan.chunkedEncoding ? length - 5 : length;
  return {
    raw: { method: 'PUT', path, headers, body: pieces, cutAfter: Math.floor(plan.at * lastUseful) },
    expect: { statuses: CLIENT_ERRORS, mayGoUnanswered: true, protocolLevel: false },
  };
}
