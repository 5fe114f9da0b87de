import { atLeast, isInteger, isString, readFields } from './fields';

/** Body of Start: `{filename, total_size}` as JSON, urlencoded or multipart. */
export interface StartUploadBody {
  filename: string;
  total_size: number;
}

const TOTAL_SIZE = 'total_size must be a positive integer';

export function readStartUpload(plain: Readonly<Record<string, unknown>>): StartUploadBody {
  return readFields<StartUploadBody>(plain, {
    filename: { required: 'filename is required', checks: [[isString, 'filename must be a string']] },
    total_size: {
      required: 'total_size is required',
      integer: true,
      checks: [
        [isInteger, TOTAL_SIZE],
        [atLeast(1), TOTAL_SIZE],
      ],
    },
  });
}
