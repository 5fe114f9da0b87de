import { parseDictionary } from 'structured-headers';
import type { ExpectedDigest } from '../domain/chunk-request.types';
import { InvalidInputError } from '../errors/frago.errors';

/** The RFC 9530 algorithm keys frago checks; the registry's insecure ones (md5, sha, unixsum, …) are ignored like unknown keys. */
const RFC9530_ALGORITHMS = new Map<string, { algorithm: 'sha256' | 'sha512'; bytes: number }>([
  ['sha-256', { algorithm: 'sha256', bytes: 32 }],
  ['sha-512', { algorithm: 'sha512', bytes: 64 }],
]);

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

/**
 * RFC 9530 §2: the field is an RFC 8941 Dictionary whose keys name hash
 * algorithms and whose values are Byte Sequences. Members may carry
 * parameters (none are defined, so they are ignored) and keys frago does not
 * check are skipped whatever their value; a field that is not a valid
 * Dictionary, or a checked algorithm whose value is not a Byte Sequence of
 * that algorithm's length, is refused.
 */
function parseContentDigest(header: string): ExpectedDigest[] {
  const found: ExpectedDigest[] = [];
  for (const [key, member] of readDictionary(header)) {
    const spec = RFC9530_ALGORITHMS.get(key);
    if (!spec) continue;
    const [value] = member;
    if (!(value instanceof ArrayBuffer) || value.byteLength !== spec.bytes) {
      throw new InvalidInputError(`Malformed Content-Digest: ${key} must be a byte sequence of ${spec.bytes} bytes, e.g. "${key}=:BASE64:"`);
    }
    found.push({ algorithm: spec.algorithm, value: Buffer.from(value), header: 'Content-Digest' });
  }
  if (found.length === 0) throw new InvalidInputError('Content-Digest names no supported algorithm (sha-256, sha-512)');
  return found;
}

function readDictionary(header: string): ReturnType<typeof parseDictionary> {
  try {
    return parseDictionary(header);
  } catch {
    throw new InvalidInputError('Malformed Content-Digest: expected an RFC 8941 dictionary such as "sha-256=:BASE64:"');
  }
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
