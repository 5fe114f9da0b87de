/**
 * Generated bad chunk requests for the HTTP chaos suite. Each arbitrary
 * yields a small printable plan (what fast-check reports on failure); `build`
 * turns a plan into exact request bytes for one fresh upload. Every plan of
 * the single-request families is a request that must NOT be stored: the
 * defect it carries makes it invalid whatever else it holds, so "nothing was
 * recorded" is a fair check after each one.
 */
import type { ChaosRequest } from './chaos-bytes';
import { buildHeader, buildOddId, type HeaderPlan, type OddIdPlan } from './chaos-headers';
import { buildMultipart, type MultipartPlan } from './chaos-multipart';
import { buildCut, buildRaw, type CutPlan, type RawPlan } from './chaos-raw';

export { MAX_CHUNK, TOTAL, type ChaosRequest } from './chaos-bytes';
export { headerPlan, oddIdPlan } from './chaos-headers';
export { multipartPlan } from './chaos-multipart';
export { cutPlan, rawPlan } from './chaos-raw';

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
