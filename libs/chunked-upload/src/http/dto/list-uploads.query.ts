import { UploadStatus } from '../../entities/upload-status';
import { atLeast, atMost, isInteger, readFields } from './fields';

/** Query of `GET /upload/`: `?limit` (1–1000, default 50), `&offset`, `&status`. */
export interface ListUploadsQuery {
  limit?: number;
  offset?: number;
  status?: UploadStatus;
}

const LIMIT = 'limit must be an integer from 1 to 1000';
const OFFSET = 'offset must be an integer ≥ 0';
const STATUSES: readonly unknown[] = Object.values(UploadStatus);

export function readListUploadsQuery(plain: Readonly<Record<string, unknown>>): ListUploadsQuery {
  return readFields<ListUploadsQuery>(plain, {
    limit: {
      integer: true,
      checks: [
        [isInteger, LIMIT],
        [atLeast(1), LIMIT],
        [atMost(1000), LIMIT],
      ],
    },
    offset: {
      integer: true,
      checks: [
        [isInteger, OFFSET],
        [atLeast(0), OFFSET],
      ],
    },
    status: { checks: [[(value) => STATUSES.includes(value), `status must be one of ${STATUSES.join(', ')}`]] },
  });
}
