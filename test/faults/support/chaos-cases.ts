/**
 * Generated bad chunk requests for the HTTP chaos suite. Each arbitrary
 * yields a small printable plan (what fast-check reports on failure); `build`
 * turns a plan into exact request bytes for one fresh upload. Every plan of
 * the single-request families is a request that must NOT be stored: the
 * defect it carries makes it invalid whatever else it holds, so "nothing was
 * recorded" is a fair check after each one.
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { testBytes } from '../../helpers/upload-client';
import type { RawRequest } from '../../helpers/raw-http';

/** Every chaos upload's total size. */
export const TOTAL = 4096;
/** The app's FRAGO_MAX_CHUNK_SIZE in the suite. */
export const MAX_CHUNK = 64 * 1024;
/**
 * Most pieces a request is written in (with a turn of the event loop between
 * them): an answer given before the body is read must still reach a client
 * that is still sending.
 */
export const MAX_PIECES = 4;

/** What a request may answer. */
export interface Expectation {
  /** Allowed statuses. */
  statuses: number[];
  /** The frago error code the answer must carry, when one is certain. */
  code?: string;
  /** The request is incomplete by design (cut, or shorter than it announced): no answer is fine. */
  mayGoUnanswered: boolean;
  /**
   * The defect is in the HTTP framing itself (bad chunked encoding, headers
   * over Node's limit, conflicting lengths, a body that ends before its
   * Content-Length): Node's parser refuses it before any route runs, so a
   * bodyless or Fastify-shaped 400/431 is fine too, and so is no answer when
   * the server closed the connection while the request was still being
   * written (Node's own refusal, which frago never sees).
   */
  protocolLevel: boolean;
  /**
   * Codes an answer asking to retry (429/503 with Retry-After) may carry (the server asks to retry, e.g. a
   * twin over the bound of waiting twins); without them every 5xx fails.
   */
  retryLater?: string[];
}

/** One request to send, and what it may answer. */
export interface ChaosRequest {
  /** Names the request in failure messages (e.g. its role among twins). */
  label?: string;
  raw: RawRequest;
  expect: Expectation;
}

/** A chunk range of a chaos upload (END inclusive). */
interface Range {
  start: number;
  size: number;
}

const range = fc.record({ start: fc.nat({ max: 7 }).map((n) => n * 512), size: fc.integer({ min: 1, max: 1024 }) }).filter((r) => r.start + r.size <= TOTAL);
const seed = fc.integer({ min: 1, max: 0x7fffffff });
const boundary = fc.oneof(
  fc.constant('----frago-chaos'),
  fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/).filter((b) => !b.endsWith(' ')),
  fc.constantFrom('x', '--', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a b', "'()+_,-./:=?"),
);

const contentRange = (r: Range): string => `bytes ${r.start}-${r.start + r.size - 1}/${TOTAL}`;
const rangeData = (r: Range, dataSeed: number): Buffer => testBytes(r.size, dataSeed);
const CRLF = '\r\n';

/** A part: header lines and data. */
interface Part {
  headers: string[];
  data: Buffer;
}

function fileHeaders(name = 'file'): string[] {
  return [`Content-Disposition: form-data; name="${name}"; filename="chunk"`, 'Content-Type: application/octet-stream'];
}

function serialise(b: string, parts: Part[], closing: string): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) pieces.push(Buffer.from(`--${b}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}`, 'latin1'), part.data, Buffer.from(CRLF));
  const body = Buffer.concat(pieces);
  // The CRLF after the last part belongs to the closing delimiter.
  return Buffer.concat([body.subarray(0, body.length - 2), Buffer.from(closing, 'latin1')]);
}

function quoteBoundary(b: string): string {
  return /^[0-9A-Za-z'+_,.-]+$/.test(b) && !b.includes(' ') ? b : `"${b}"`;
}

/** Splits `body` into 1–4 pieces at seeded points (the chunks of the HTTP write, or of a chunked encoding). */
function split(body: Buffer, pieces: number, pieceSeed: number): Buffer[] {
  const cuts = new Set<number>();
  let x = pieceSeed;
  for (let i = 1; i < pieces; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    if (body.length > 1) cuts.add(1 + (x % (body.length - 1)));
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of sorted) {
    out.push(body.subarray(from, cut));
    from = cut;
  }
  out.push(body.subarray(from));
  return out;
}

function chunked(pieces: Buffer[]): Buffer[] {
  return [
    ...pieces.filter((p) => p.length > 0).map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}${CRLF}`), p, Buffer.from(CRLF)])),
    Buffer.from(`0${CRLF}${CRLF}`),
  ];
}

// ---------------------------------------------------------------- multipart

const multipartDefect = fc.oneof(
  fc.record({
    kind: fc.constant('no-closing' as const),
    tail: fc.constantFrom(
      '',
      CRLF,
      `${CRLF}--B`,
      `${CRLF}--B${CRLF}`,
      `${CRLF}--B-`,
      `${CRLF}--B${CRLF}Content-Disposition: form-data; name="x"${CRLF}${CRLF}`,
    ),
  }),
  fc.record({ kind: fc.constant('truncated' as const), at: fc.double({ min: 0, max: 0.999, noNaN: true }), sendRest: fc.boolean() }),
  fc.record({
    kind: fc.constant('boundary-in-data' as const),
    at: fc.double({ min: 0, max: 0.999, noNaN: true }),
    after: fc.constantFrom('', CRLF, '--', `--${CRLF}`, `${CRLF}${CRLF}`),
  }),
  fc.record({ kind: fc.constant('wrong-size' as const), delta: fc.integer({ min: -1024, max: 64 }).filter((d) => d !== 0) }),
  fc.record({
    kind: fc.constant('no-file-part' as const),
    name: fc.constantFrom('FILE', 'files', 'file[]', '', 'file ', ' file', 'fil', 'no-name', 'no-disposition', 'field-not-file'),
  }),
  fc.record({
    kind: fc.constant('huge-part-header' as const),
    bytes: fc.integer({ min: 9_000, max: 60_000 }),
    delta: fc.integer({ min: -8, max: 8 }).filter((d) => d !== 0),
  }),
  fc.record({
    kind: fc.constant('several-file-parts' as const),
    count: fc.integer({ min: 2, max: 5 }),
    firstDelta: fc.integer({ min: -64, max: 64 }).filter((d) => d !== 0),
  }),
  fc.record({ kind: fc.constant('nested' as const), inner: fc.constantFrom('inner', 'B', 'x-nested') }),
  fc.record({
    kind: fc.constant('bad-content-type' as const),
    variant: fc.constantFrom('no-boundary', 'other-boundary', 'empty-boundary', 'two-boundaries', 'mixed'),
  }),
  fc.record({ kind: fc.constant('duplicate-headers' as const), delta: fc.integer({ min: -16, max: 16 }).filter((d) => d !== 0) }),
  fc.record({
    kind: fc.constant('garbage-part-headers' as const),
    junk: fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
    delta: fc.integer({ min: -16, max: 16 }).filter((d) => d !== 0),
  }),
);

/** A malformed, truncated or misleading multipart chunk body. */
export const multipartPlan = fc.record({
  family: fc.constant('multipart' as const),
  range,
  seed,
  boundary,
  defect: multipartDefect,
  framing: fc.constantFrom('exact' as const, 'chunked' as const, 'length-long' as const),
  pieces: fc.integer({ min: 1, max: MAX_PIECES }),
});
export type MultipartPlan = typeof multipartPlan extends fc.Arbitrary<infer T> ? T : never;

function buildMultipart(plan: MultipartPlan, path: string): ChaosRequest {
  const b = plan.boundary;
  const data = rangeData(plan.range, plan.seed);
  const sized = (delta: number): Buffer => testBytes(Math.max(0, plan.range.size + delta), plan.seed);
  let contentType = `multipart/form-data; boundary=${quoteBoundary(b)}`;
  let body: Buffer;
  let mayGoUnanswered = false;
  let protocolLevel = false;
  let contentLength: number | undefined;
  const defect = plan.defect;
  switch (defect.kind) {
    case 'no-closing':
      body = serialise(b, [{ headers: fileHeaders(), data }], defect.tail.replace('B', b));
      break;
    case 'truncated': {
      const whole = serialise(b, [{ headers: fileHeaders(), data }], `${CRLF}--${b}--${CRLF}`);
      // Cut before the end of the file data, so the form is always incomplete.
      const dataEnd = whole.length - `${CRLF}--${b}--${CRLF}`.length;
      const at = Math.floor(defect.at * dataEnd);
      body = whole.subarray(0, at);
      if (defect.sendRest) {
        // Content-Length says where it ends; the rest arrives as a (garbage) pipelined request.
        contentLength = at;
        body = whole;
        // The rest is a protocol violation after a `Connection: close` request; Node may refuse it first.
        protocolLevel = true;
      }
      break;
    }
    case 'boundary-in-data': {
      const at = Math.floor(defect.at * data.length);
      const poisoned = Buffer.concat([data.subarray(0, at), Buffer.from(`${CRLF}--${b}${defect.after}`), data.subarray(at)]);
      body = serialise(b, [{ headers: fileHeaders(), data: poisoned }], `${CRLF}--${b}--${CRLF}`);
      break;
    }
    case 'wrong-size':
      body = serialise(b, [{ headers: fileHeaders(), data: sized(defect.delta) }], `${CRLF}--${b}--${CRLF}`);
      break;
    case 'no-file-part': {
      let headers: string[];
      if (defect.name === 'no-name') headers = ['Content-Disposition: form-data; filename="chunk"', 'Content-Type: application/octet-stream'];
      else if (defect.name === 'no-disposition') headers = ['Content-Type: application/octet-stream'];
      else if (defect.name === 'field-not-file') headers = ['Content-Disposition: form-data; name="other"'];
      else headers = fileHeaders(defect.name);
      body = serialise(b, [{ headers, data }], `${CRLF}--${b}--${CRLF}`);
      break;
    }
    case 'huge-part-header':
      body = serialise(b, [{ headers: [...fileHeaders(), `X-Padding: ${'p'.repeat(defect.bytes)}`], data: sized(defect.delta) }], `${CRLF}--${b}--${CRLF}`);
      break;
    case 'several-file-parts': {
      const parts: Part[] = [{ headers: fileHeaders(), data: sized(defect.firstDelta) }];
      for (let i = 1; i < defect.count; i++) parts.push({ headers: fileHeaders(), data });
      body = serialise(b, parts, `${CRLF}--${b}--${CRLF}`);
      break;
    }
    case 'nested': {
      const inner = serialise(defect.inner, [{ headers: fileHeaders(), data }], `${CRLF}--${defect.inner}--${CRLF}`);
      const headers = ['Content-Disposition: form-data; name="file"; filename="chunk"', `Content-Type: multipart/mixed; boundary=${defect.inner}`];
      body = serialise(b, [{ headers, data: inner }], `${CRLF}--${b}--${CRLF}`);
      break;
    }
    case 'bad-content-type':
      body = serialise(b, [{ headers: fileHeaders(), data }], `${CRLF}--${b}--${CRLF}`);
      contentType = {
        'no-boundary': 'multipart/form-data',
        'other-boundary': `multipart/form-data; boundary=${quoteBoundary(`${b}X`)}`,
        'empty-boundary': 'multipart/form-data; boundary=',
        'two-boundaries': `multipart/form-data; boundary=${quoteBoundary(`${b}X`)}; boundary=${quoteBoundary(`${b}Y`)}`,
        mixed: `multipart/mixed; boundary=${quoteBoundary(`${b}X`)}`,
      }[defect.variant];
      break;
    case 'duplicate-headers': {
      const headers = ['Content-Disposition: form-data; name="other"', ...fileHeaders(), 'Content-Type: text/plain'];
      body = serialise(b, [{ headers, data: sized(defect.delta) }], `${CRLF}--${b}--${CRLF}`);
      break;
    }
    case 'garbage-part-headers': {
      const junk = defect.junk.replace(/\r|\n/g, ' ');
      body = serialise(b, [{ headers: [...fileHeaders(), junk], data: sized(defect.delta) }], `${CRLF}--${b}--${CRLF}`);
      break;
    }
  }
  const headers: Array<[string, string]> = [
    ['Content-Range', contentRange(plan.range)],
    ['Content-Type', contentType],
  ];
  let pieces = split(body, plan.pieces, plan.seed);
  let endAfterBody = false;
  if (plan.framing === 'chunked' && contentLength === undefined) {
    headers.push(['Transfer-Encoding', 'chunked']);
    pieces = chunked(pieces);
  } else if (plan.framing === 'length-long' && contentLength === undefined) {
    // Announces more than it sends, then half-closes: the request never completes.
    headers.push(['Content-Length', String(body.length + 1 + (plan.seed % 1000))]);
    endAfterBody = true;
    mayGoUnanswered = true;
    protocolLevel = true;
  } else {
    headers.push(['Content-Length', String(contentLength ?? body.length)]);
  }
  return {
    raw: { method: 'PUT', path, headers, body: pieces, endAfterBody },
    expect: { statuses: CLIENT_ERRORS, mayGoUnanswered, protocolLevel },
  };
}

/** Any 4xx. */
const CLIENT_ERRORS = Array.from({ length: 100 }, (_, i) => 400 + i);

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

function buildRaw(plan: RawPlan, path: string): ChaosRequest {
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

function buildCut(plan: CutPlan, path: string): ChaosRequest {
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

/** The bytes and headers (without a length) of a valid chunk. */
function goodChunk(r: Range, dataSeed: number, multipart: boolean): { headers: Array<[string, string]>; body: Buffer } {
  const data = rangeData(r, dataSeed);
  if (!multipart)
    return {
      headers: [
        ['Content-Range', contentRange(r)],
        ['Content-Type', 'application/octet-stream'],
      ],
      body: data,
    };
  const b = `----frago-chaos-${dataSeed}`;
  return {
    headers: [
      ['Content-Range', contentRange(r)],
      ['Content-Type', `multipart/form-data; boundary=${b}`],
    ],
    body: serialise(b, [{ headers: fileHeaders(), data }], `${CRLF}--${b}--${CRLF}`),
  };
}

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

function buildOddId(plan: OddIdPlan, prefix: string): ChaosRequest {
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

function buildHeader(plan: HeaderPlan, path: string): ChaosRequest {
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

// ---------------------------------------------------------------- build

/** Every single-request plan. */
export type ChaosPlan = MultipartPlan | RawPlan | CutPlan | OddIdPlan | HeaderPlan;

/** The request of `plan` against upload `uploadId` (`prefix` e.g. `/api/upload`). */
export function build(plan: ChaosPlan, prefix: string, uploadId: string): ChaosRequest {
  const path = `${prefix}/${uploadId}/`;
  switch (plan.family) {
    case 'multipart':
      return buildMultipart(plan, path);
    case 'raw':
      return buildRaw(plan, path);
    case 'cut':
      return buildCut(plan, path);
    case 'odd-id':
      return buildOddId(plan, prefix);
    case 'header':
      return buildHeader(plan, path);
  }
}

// ---------------------------------------------------------------- concurrency

/** What one concurrent request of a twins/overlap case sends. */
export type ConcurrentRole =
  | { role: 'twin'; multipart: boolean }
  | { role: 'bad-twin'; kind: 'bad-digest' | 'bad-multipart' | 'short-body' | 'cut'; multipart: boolean }
  | { role: 'overlap'; start: number; size: number; multipart: boolean };

/**
 * Identical twins of one valid chunk, sent at the same moment, interleaved
 * with invalid requests for the same range (wrong digest, broken multipart,
 * short body, cut) and with chunks overlapping a stored one.
 */
export const concurrentPlan = fc.record({
  family: fc.constant('concurrent' as const),
  seed,
  roles: fc
    .array(
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ role: fc.constant('twin' as const), multipart: fc.boolean() }) },
        {
          weight: 2,
          arbitrary: fc.record({
            role: fc.constant('bad-twin' as const),
            kind: fc.constantFrom('bad-digest' as const, 'bad-multipart' as const, 'short-body' as const, 'cut' as const),
            multipart: fc.boolean(),
          }),
        },
        // Overlapping the stored chunk [2048, 2559] and nothing the twins send.
        {
          weight: 1,
          arbitrary: fc
            .record({
              role: fc.constant('overlap' as const),
              start: fc.integer({ min: 1024, max: 2559 }),
              size: fc.integer({ min: 1, max: 512 }),
              multipart: fc.boolean(),
            })
            .filter((r) => r.start + r.size - 1 >= 2048 && r.start + r.size - 1 < 3072 && !(r.start === 2048 && r.size === 512)),
        },
      ),
      { minLength: 2, maxLength: 8 },
    )
    .filter((roles) => roles.some((r) => r.role === 'twin')),
  pieces: fc.integer({ min: 1, max: MAX_PIECES }),
});
export type ConcurrentPlan = typeof concurrentPlan extends fc.Arbitrary<infer T> ? T : never;

/** The app's FRAGO_MAX_WAITING_TWINS in the suite: small, so that bursts of twins pass it. */
export const TWIN_BOUND = 2;

/**
 * A writer holding the twins' range (its body half sent) while 1–8 identical
 * twins arrive; then it finishes or its connection is cut.
 */
export const twinsPlan = fc.record({
  family: fc.constant('twins' as const),
  seed,
  holder: fc.record({ multipart: fc.boolean(), ends: fc.constantFrom('finishes' as const, 'cut' as const) }),
  twins: fc.array(fc.record({ multipart: fc.boolean() }), { minLength: 1, maxLength: 8 }),
  pieces: fc.integer({ min: 1, max: MAX_PIECES }),
});
export type TwinsPlan = typeof twinsPlan extends fc.Arbitrary<infer T> ? T : never;

/** A twins case as a concurrency plan (same file, same framing). */
export function asConcurrent(plan: TwinsPlan): ConcurrentPlan {
  return {
    family: 'concurrent',
    seed: plan.seed,
    roles: plan.twins.map((twin) => ({ role: 'twin' as const, multipart: twin.multipart })),
    pieces: plan.pieces,
  };
}

/** The twins' range and the stored chunk of a concurrency case. */
export const TWIN_RANGE: Range = { start: 0, size: 512 };
export const STORED_RANGE: Range = { start: 2048, size: 512 };

/** The whole file of a concurrency case (seeded). */
export function concurrentFile(plan: ConcurrentPlan): Buffer {
  return testBytes(TOTAL, plan.seed);
}

/** The request of one role of a concurrency case. */
export function buildConcurrent(plan: ConcurrentPlan, role: ConcurrentRole, path: string): ChaosRequest {
  const file = concurrentFile(plan);
  const piece = (r: Range): Buffer => file.subarray(r.start, r.start + r.size);
  const framed = (r: Range, multipart: boolean, bytes = piece(r)): { headers: Array<[string, string]>; body: Buffer } => {
    if (!multipart)
      return {
        headers: [
          ['Content-Range', contentRange(r)],
          ['Content-Type', 'application/octet-stream'],
        ],
        body: bytes,
      };
    const b = `----frago-twin-${plan.seed}`;
    return {
      headers: [
        ['Content-Range', contentRange(r)],
        ['Content-Type', `multipart/form-data; boundary=${b}`],
      ],
      body: serialise(b, [{ headers: fileHeaders(), data: bytes }], `${CRLF}--${b}--${CRLF}`),
    };
  };
  const send = (headers: Array<[string, string]>, body: Buffer, extra: Partial<RawRequest> = {}): RawRequest => ({
    method: 'PUT',
    path,
    headers: [...headers, ['Content-Length', String(body.length)]],
    body: split(body, plan.pieces, plan.seed),
    ...extra,
  });
  switch (role.role) {
    case 'twin': {
      const { headers, body } = framed(TWIN_RANGE, role.multipart);
      // Past the bound of waiting twins (the suite's app allows TWIN_BOUND), a twin is asked to retry.
      return {
        label: 'twin',
        raw: send(headers, body),
        expect: { statuses: [200, 429], mayGoUnanswered: false, protocolLevel: false, retryLater: ['TWIN_WAIT_LIMIT'] },
      };
    }
    case 'overlap': {
      const r = { start: role.start, size: role.size };
      const { headers, body } = framed(r, role.multipart);
      return {
        label: `overlap ${r.start}+${r.size}`,
        raw: send(headers, body),
        expect: { statuses: [409], code: 'CHUNK_OVERLAP', mayGoUnanswered: false, protocolLevel: false },
      };
    }
    case 'bad-twin': {
      // A twin's duplicate answer (200, skipped) is fine too: the stored bytes are the good twin's.
      // It waits as a twin too, so past the bound it is asked to retry like one.
      const expect: Expectation = { statuses: [200, 400, 429], mayGoUnanswered: false, protocolLevel: false, retryLater: ['TWIN_WAIT_LIMIT'] };
      const wrong = Buffer.from(piece(TWIN_RANGE));
      wrong[0] ^= 0xff;
      if (role.kind === 'bad-digest') {
        const { headers, body } = framed(TWIN_RANGE, role.multipart, wrong);
        return {
          label: 'bad twin (digest)',
          raw: send([...headers, ['Content-MD5', createHash('md5').update(piece(TWIN_RANGE)).digest('base64')]], body),
          expect,
        };
      }
      if (role.kind === 'bad-multipart') {
        const b = `----frago-bad-${plan.seed}`;
        const body = serialise(b, [{ headers: fileHeaders(), data: wrong }], CRLF);
        return {
          label: 'bad twin (no closing boundary)',
          raw: send(
            [
              ['Content-Range', contentRange(TWIN_RANGE)],
              ['Content-Type', `multipart/form-data; boundary=${b}`],
            ],
            body,
          ),
          expect,
        };
      }
      if (role.kind === 'short-body') {
        const { headers, body } = framed(TWIN_RANGE, role.multipart, wrong.subarray(1));
        return { label: `bad twin (short ${role.multipart ? 'multipart' : 'raw'} body)`, raw: send(headers, body), expect };
      }
      const { headers, body } = framed(TWIN_RANGE, role.multipart, wrong);
      return { label: 'bad twin (cut)', raw: send(headers, body, { cutAfter: Math.floor(body.length / 2) }), expect: { ...expect, mayGoUnanswered: true } };
    }
  }
}
