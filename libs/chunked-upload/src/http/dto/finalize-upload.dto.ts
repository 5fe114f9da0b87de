import { CHECKSUM_ALGO_MAX_LENGTH } from '../../migrations/widen-frago-checksum-algo';
import { isString, readFields, shorterThan } from './fields';

/** Body of Finalize: `{checksum, checksum_algo}`; both optional here, the service decides. */
export interface FinalizeUploadBody {
  checksum?: string;
  checksum_algo?: string;
}

export function readFinalizeUpload(plain: Readonly<Record<string, unknown>>): FinalizeUploadBody {
  return readFields<FinalizeUploadBody>(plain, {
    checksum: {
      checks: [
        [isString, 'checksum must be a string'],
        [shorterThan(512), 'checksum is too long'],
      ],
    },
    checksum_algo: {
      checks: [
        [isString, 'checksum_algo must be a string'],
        [shorterThan(CHECKSUM_ALGO_MAX_LENGTH), `checksum_algo is too long (at most ${CHECKSUM_ALGO_MAX_LENGTH} characters)`],
      ],
    },
  });
}
