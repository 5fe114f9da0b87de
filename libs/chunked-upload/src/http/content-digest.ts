import { InvalidInputError } from '../errors/frago.errors';

/** A digest a client announced for the chunk bytes, in node:crypto terms. */
export interface ExpectedDigest {
  /** node:crypto algorithm: 'sha256' | 'sha512' | 'md5'. */
  algorithm: 'sha256' | 'sha512' | 'md5';
  /** The raw digest bytes. */
  value: Buffer;
  /** Header it came from, for the error message. */
  header: 'Content-Digest' | 'Content-MD5';
}

const RFC9530_ALGORITHMS: Record<string, { algorithm: 'sha256' | 'sha512'; bytes: number }> = {
  'sha-256': { algorithm: 'sha256', bytes: 32 },
  'sha-512': { algorithm: 'sha512', bytes: 64 },
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads the optional per-chunk `Content-Digest` (RFC 9530; sha-256 and
 * sha-512, other algorithms ignored as the RFC allows) and `Content-MD5`
 * (RFC 1864; base64, hex also accepted). Malformed headers are a 400.
 */
export function parseChunkDigests(contentDigest: string | string[] | undefined, contentMd5: string | string[] | undefined): ExpectedDigest[] {
  const digests: ExpectedDigest[] = [];
  if (contentDigest !== undefined) digests.push(...parseContentDigest(single(contentDigest, 'Content-Digest')));
  if (contentMd5 !== undefined) digests.push(parseContentMd5(single(contentMd5, 'Content-MD5')));
  return digests;
}

function single(value: string | string[], name: string): string {
  if (Array.isArray(value)) {
    if (value.length !== 1) throw new InvalidInputError(`Send at most one ${name} header`);
    return value[0];
  }
  return value;
}

function parseContentDigest(header: string): ExpectedDigest[] {
  const found: ExpectedDigest[] = [];
  let recognised = 0;
  for (const member of header.split(',')) {
    const match = /^\s*([a-z0-9-]+)\s*=\s*:([^:]*):\s*$/i.exec(member);
    if (!match) throw new InvalidInputError('Malformed Content-Digest: expected e.g. "sha-256=:BASE64:"');
    const spec = RFC9530_ALGORITHMS[match[1].toLowerCase()];
    if (!spec) continue;
    recognised++;
    const value = decodeBase64(match[2], spec.bytes, 'Content-Digest');
    found.push({ algorithm: spec.algorithm, value, header: 'Content-Digest' });
  }
  if (recognised === 0) throw new InvalidInputError('Content-Digest names no supported algorithm (sha-256, sha-512)');
  return found;
}

function parseContentMd5(header: string): ExpectedDigest {
  const trimmed = header.trim();
  const value = /^[0-9a-f]{32}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : decodeBase64(trimmed, 16, 'Content-MD5');
  return { algorithm: 'md5', value, header: 'Content-MD5' };
}

function decodeBase64(text: string, bytes: number, header: string): Buffer {
  const value = BASE64.test(text) ? Buffer.from(text, 'base64') : null;
  if (!value || value.length !== bytes) throw new InvalidInputError(`Malformed ${header}: expected a base64 digest of ${bytes} bytes`);
  return value;
}
