/**
 * The concurrent chaos cases: identical twins of one valid chunk at once, with invalid
 * twins and overlaps, and a held range with a burst of twins.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { testBytes } from '../../helpers/upload-client';
import type { RawRequest } from '../../helpers/raw-http';
import {
  contentRange,
  CRLF,
  fileHeaders,
  framedChunk,
  MAX_PIECES,
  seed,
  serialise,
  split,
  TOTAL,
  type ChaosRequest,
  type Expectation,
  type Range,
} from './chaos-bytes';

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
  const framed = (r: Range, multipart: boolean, bytes = piece(r)): { headers: Array<[string, string]>; body: Buffer } =>
    framedChunk(r, bytes, multipart, `----frago-twin-${plan.seed}`);
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
