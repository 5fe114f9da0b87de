import { getHashes } from 'node:crypto';

/** True when node:crypto can compute this hash (case-insensitive). */
export function isSupportedHash(name: string): boolean {
  return getHashes().includes(name.toLowerCase());
}
