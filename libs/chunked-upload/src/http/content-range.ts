import type { ContentRange } from '../domain/chunk-request.types';
import { InvalidContentRangeError } from '../errors/frago.errors';

const PATTERN = /^bytes[ \t]+(\d{1,16})-(\d{1,16})\/(\d{1,16})$/i;

/**
 * Parses and checks a chunk PUT's Content-Range header (RFC 9110 §14.4 syntax, END inclusive). Throws
 * `InvalidContentRangeError` (400) when missing, malformed, START > END or
 * END ≥ TOTAL.
 */
export function parseContentRange(header: string | string[] | undefined): ContentRange {
  if (header === undefined || header === '') throw new InvalidContentRangeError('Content-Range header is required, e.g. "bytes 0-1048575/5000000"');
  if (Array.isArray(header)) throw new InvalidContentRangeError('Send exactly one Content-Range header');
  const match = PATTERN.exec(header.trim());
  if (!match) throw new InvalidContentRangeError('Malformed Content-Range: expected "bytes START-END/TOTAL"');
  const [start, end, total] = [match[1], match[2], match[3]].map(Number);
  if (![start, end, total].every(Number.isSafeInteger)) throw new InvalidContentRangeError('Content-Range values are too large');
  if (start > end) throw new InvalidContentRangeError('Content-Range START must not exceed END');
  if (end >= total) throw new InvalidContentRangeError('Content-Range END must be less than TOTAL');
  return { start, end, total, size: end - start + 1 };
}
