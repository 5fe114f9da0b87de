/**
 * Checksums without Node's crypto (browsers have no MD5 in WebCrypto, and
 * WebCrypto cannot hash incrementally): hash-wasm's incremental hashers.
 */
import { createMD5, createSHA256 } from 'hash-wasm';

/** Whole-file checksum algorithms the client can compute; names as sent in `checksum_algo`. */
export type ChecksumAlgorithm = 'md5' | 'sha256';

/** An incremental hasher fed with the file's bytes in file order. */
export interface IncrementalHash {
  /** The algorithm, as sent in `checksum_algo`. */
  readonly algorithm: ChecksumAlgorithm;
  /** Feeds the next bytes of the file. */
  update(bytes: Uint8Array): void;
  /** Lower-case hex digest of everything fed so far; call once. */
  digestHex(): string;
}

/** Creates an incremental hasher for `algorithm`. */
export async function createIncrementalHash(algorithm: ChecksumAlgorithm): Promise<IncrementalHash> {
  const hasher = algorithm === 'md5' ? await createMD5() : await createSHA256();
  hasher.init();
  return {
    algorithm,
    update: (bytes) => void hasher.update(bytes),
    digestHex: () => hasher.digest('hex'),
  };
}

/** Standard base64 of `bytes`, without Node's `Buffer`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The RFC 9530 `Content-Digest` value for one chunk: `sha-256=:<base64>:`.
 * Creates a fresh hasher per call so parallel chunks never share state.
 */
export async function contentDigest(bytes: Uint8Array): Promise<string> {
  const hasher = await createSHA256();
  hasher.init();
  hasher.update(bytes);
  return `sha-256=:${toBase64(hasher.digest('binary'))}:`;
}
