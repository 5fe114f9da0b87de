/**
 * What every chaos case is built from: the upload's geometry, what a request may answer,
 * the seeded arbitraries all families share, and multipart / chunked-encoding serialisers.
 */
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
export interface Range {
  start: number;
  size: number;
}

export const range = fc
  .record({ start: fc.nat({ max: 7 }).map((n) => n * 512), size: fc.integer({ min: 1, max: 1024 }) })
  .filter((r) => r.start + r.size <= TOTAL);
export const seed = fc.integer({ min: 1, max: 0x7fffffff });
export const boundary = fc.oneof(
  fc.constant('----frago-chaos'),
  fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/).filter((b) => !b.endsWith(' ')),
  fc.constantFrom('x', '--', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a b', "'()+_,-./:=?"),
);

export const contentRange = (r: Range): string => `bytes ${r.start}-${r.start + r.size - 1}/${TOTAL}`;
export const rangeData = (r: Range, dataSeed: number): Buffer => testBytes(r.size, dataSeed);
export const CRLF = '\r\n';

/** A part: header lines and data. */
export interface Part {
  headers: string[];
  data: Buffer;
}

export function fileHeaders(name = 'file'): string[] {
  return [`Content-Disposition: form-data; name="${name}"; filename="chunk"`, 'Content-Type: application/octet-stream'];
}

export function serialise(b: string, parts: Part[], closing: string): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) pieces.push(Buffer.from(`--${b}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}`, 'latin1'), part.data, Buffer.from(CRLF));
  const body = Buffer.concat(pieces);
  // The CRLF after the last part belongs to the closing delimiter.
  return Buffer.concat([body.subarray(0, body.length - 2), Buffer.from(closing, 'latin1')]);
}

export function quoteBoundary(b: string): string {
  return /^[0-9A-Za-z'+_,.-]+$/.test(b) && !b.includes(' ') ? b : `"${b}"`;
}

/** Splits `body` into 1–4 pieces at seeded points (the chunks of the HTTP write, or of a chunked encoding). */
export function split(body: Buffer, pieces: number, pieceSeed: number): Buffer[] {
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

export function chunked(pieces: Buffer[]): Buffer[] {
  return [
    ...pieces.filter((p) => p.length > 0).map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}${CRLF}`), p, Buffer.from(CRLF)])),
    Buffer.from(`0${CRLF}${CRLF}`),
  ];
}

/** Any 4xx. */
export const CLIENT_ERRORS = Array.from({ length: 100 }, (_, i) => 400 + i);

/** The bytes and headers (without a length) of a valid chunk of `data` at `r`: raw, or the one file part of a multipart body with boundary `b`. */
export function framedChunk(r: Range, data: Buffer, multipart: boolean, b: string): { headers: Array<[string, string]>; body: Buffer } {
  if (!multipart)
    return {
      headers: [
        ['Content-Range', contentRange(r)],
        ['Content-Type', 'application/octet-stream'],
      ],
      body: data,
    };
  return {
    headers: [
      ['Content-Range', contentRange(r)],
      ['Content-Type', `multipart/form-data; boundary=${b}`],
    ],
    body: serialise(b, [{ headers: fileHeaders(), data }], `${CRLF}--${b}--${CRLF}`),
  };
}

/** A valid chunk of the seeded data at `r`. */
export function goodChunk(r: Range, dataSeed: number, multipart: boolean): { headers: Array<[string, string]>; body: Buffer } {
  return framedChunk(r, rangeData(r, dataSeed), multipart, `----frago-chaos-${dataSeed}`);
}
