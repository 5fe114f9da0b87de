/**
 * What a chunk PUT asks the services for, once the HTTP edge has read its
 * headers: the byte range and the digests the client announced.
 */

/** A parsed `Content-Range: bytes START-END/TOTAL` (END inclusive). */
export interface ContentRange {
  start: number;
  end: number;
  total: number;
  /** END − START + 1. */
  size: number;
}

/** A digest a client announced for the chunk bytes, in node:crypto terms. */
export interface ExpectedDigest {
  /** node:crypto algorithm: 'sha256' | 'sha512' | 'md5'. */
  algorithm: 'sha256' | 'sha512' | 'md5';
  /** The raw digest bytes. */
  value: Buffer;
  /** Header it came from, for the error message. */
  header: 'Content-Digest' | 'Content-MD5';
}
