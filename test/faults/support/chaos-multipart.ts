/** The multipart family of chaos cases: malformed, truncated or misleading multipart chunk bodies. */
import fc from 'fast-check';
import { testBytes } from '../../helpers/upload-client';
import {
  boundary,
  chunked,
  CLIENT_ERRORS,
  contentRange,
  CRLF,
  fileHeaders,
  MAX_PIECES,
  quoteBoundary,
  range,
  rangeData,
  seed,
  serialise,
  split,
  type ChaosRequest,
  type Part,
} from './chaos-bytes';

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

export function buildMultipart(plan: MultipartPlan, path: string): ChaosRequest {
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
