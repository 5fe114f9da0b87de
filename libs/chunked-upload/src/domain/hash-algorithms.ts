import { getHashes } from 'node:crypto';

/** True when node:crypto can compute this hash (case-insensitive). */
export function isSupportedHash(name: string): boolean {
  const wanted = name.toLowerCase();
  // getHashes() lists some names in mixed case (RSA-SHA256, sha256WithRSAEncryption); createHash takes any case.
  return getHashes().some((known) => known.toLowerCase() === wanted);
}
