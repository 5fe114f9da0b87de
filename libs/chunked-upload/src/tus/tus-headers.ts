import { InvalidInputError, TusVersionError, UnsupportedMediaTypeError, UnsupportedAlgorithmError } from '../errors/frago.errors';
import { UPLOAD_ID_PATTERN } from '../protocol/upload-id';

/** The protocol version this server speaks (tus 1.0.0). */
export const TUS_VERSION = '1.0.0';
/** Extensions advertised in `Tus-Extension`. */
export const TUS_EXTENSIONS = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'checksum', 'expiration', 'concatenation'];
/** Checksum algorithms of the checksum extension, in `Tus-Checksum-Algorithm` order. */
export const TUS_CHECKSUM_ALGORITHMS = ['sha1', 'sha256', 'md5'];
/** Headers a browser may send (CORS `Access-Control-Allow-Headers`). */
export const TUS_REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'Origin',
  'X-Requested-With',
  'X-Request-ID',
  'X-HTTP-Method-Override',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Concat',
  'Upload-Checksum',
  'Tus-Resumable',
];
/** Headers a browser may read (CORS `Access-Control-Expose-Headers`). */
export const TUS_RESPONSE_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Concat',
  'Upload-Expires',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Tus-Checksum-Algorithm',
];

/** The content type of every PATCH body (and of a creation-with-upload body). */
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';

type Header = string | string[] | undefined;

function single(value: Header): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const INTEGER = /^(0|[1-9][0-9]{0,15})$/;

function integerHeader(name: string, value: Header): number | undefined {
  const text = single(value)?.trim();
  if (text === undefined) return undefined;
  const number = Number(text);
  if (!INTEGER.test(text) || !Number.isSafeInteger(number)) throw new InvalidInputError(`${name} must be a non-negative integer`);
  return number;
}

/**
 * tus §Tus-Resumable: "The Tus-Resumable header MUST be included in every
 * request and response except for OPTIONS requests. […] If the version
 * specified by the Client is not supported by the Server, it MUST respond
 * with the 412 Precondition Failed status".
 */
export function checkTusResumable(value: Header): void {
  if (single(value)?.trim() !== TUS_VERSION) throw new TusVersionError(single(value));
}

/** tus §Upload-Offset: "The value MUST be a non-negative integer." Required on PATCH (400 when absent). */
export function parseUploadOffset(value: Header): number {
  const offset = integerHeader('Upload-Offset', value);
  if (offset === undefined) throw new InvalidInputError('Upload-Offset header required');
  return offset;
}

/** tus §Upload-Length: "The value MUST be a non-negative integer." Absent → undefined. */
export function parseUploadLength(value: Header): number | undefined {
  return integerHeader('Upload-Length', value);
}

/** tus §Upload-Defer-Length: "Its value MUST be 1." */
export function parseDeferLength(value: Header): boolean {
  const text = single(value)?.trim();
  if (text === undefined) return false;
  if (text !== '1') throw new InvalidInputError('Upload-Defer-Length must be 1');
  return true;
}

/** Content-Length, when sent. */
export function parseContentLength(value: Header): number | undefined {
  return integerHeader('Content-Length', value);
}

/**
 * tus §PATCH: "All PATCH requests MUST use Content-Type:
 * application/offset+octet-stream, otherwise the server SHOULD return a
 * 415 Unsupported Media Type status."
 */
export function checkPatchContentType(value: Header): void {
  const type = single(value)?.split(';')[0].trim().toLowerCase();
  if (type !== OFFSET_OCTET_STREAM) throw new UnsupportedMediaTypeError(OFFSET_OCTET_STREAM);
}

/** True when a creation request carries data (creation-with-upload): its type is offset+octet-stream. */
export function hasUploadBody(contentType: Header): boolean {
  return single(contentType)?.split(';')[0].trim().toLowerCase() === OFFSET_OCTET_STREAM;
}

/** Parsed `Upload-Metadata`: the raw header (echoed by HEAD) and the decoded pairs. */
export interface TusMetadata {
  raw: string | null;
  values: Map<string, string>;
}

const MAX_METADATA_BYTES = 4096;

/**
 * tus §Upload-Metadata: "The Upload-Metadata request and response header
 * MUST consist of one or more comma-separated key-value pairs. The key and
 * value MUST be separated by a space. The key MUST NOT contain spaces and
 * commas and MUST NOT be empty. […] the value MUST be Base64 encoded. All
 * keys MUST be unique. The value MAY be empty."
 */
export function parseUploadMetadata(value: Header): TusMetadata {
  const raw = single(value)?.trim();
  if (raw === undefined || raw === '') return { raw: null, values: new Map() };
  if (Buffer.byteLength(raw) > MAX_METADATA_BYTES) throw new InvalidInputError(`Upload-Metadata must not exceed ${MAX_METADATA_BYTES} bytes`);
  const values = new Map<string, string>();
  for (const pair of raw.split(',')) {
    const [key, encoded, ...rest] = pair.trim().split(' ') as [string, string | undefined, ...string[]];
    if (!key || rest.length > 0) throw new InvalidInputError('Upload-Metadata must be comma-separated "key base64value" pairs');
    if (values.has(key)) throw new InvalidInputError(`Upload-Metadata key "${key.slice(0, 40)}" appears twice`);
    if (encoded !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded))
      throw new InvalidInputError(`Upload-Metadata value of "${key.slice(0, 40)}" is not Base64`);
    values.set(key, encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8'));
  }
  return { raw, values };
}

/** A chunk checksum from `Upload-Checksum`. */
export interface TusChecksum {
  algorithm: string;
  digest: Buffer;
}

/**
 * tus §Upload-Checksum: "The Upload-Checksum request header contains
 * information about the checksum of the current body payload. The header
 * MUST consist of the name of the used checksum algorithm and the Base64
 * encoded checksum separated by a space." An algorithm the server does not
 * support is a 400 ("400 Bad Request if the checksum algorithm is not
 * supported by the server").
 */
export function parseUploadChecksum(value: Header): TusChecksum | undefined {
  const text = single(value)?.trim();
  if (text === undefined) return undefined;
  const [algorithm, encoded, ...rest] = text.split(' ');
  if (!algorithm || !encoded || rest.length > 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new InvalidInputError('Upload-Checksum must be "<algorithm> <base64 digest>"');
  }
  const name = algorithm.toLowerCase();
  if (!TUS_CHECKSUM_ALGORITHMS.includes(name)) throw new UnsupportedAlgorithmError(name);
  return { algorithm: name, digest: Buffer.from(encoded, 'base64') };
}

/** `Upload-Concat`: none, a partial upload, or a final upload over the listed partial URLs. */
export type TusConcat = { kind: 'none' } | { kind: 'partial' } | { kind: 'final'; parts: string[] };

/** The upload UUID in a tus URL: its last non-empty path segment. Null when it is not a UUID. */
export function uploadIdFromUrl(url: string): string | null {
  let path: string;
  try {
    path = new URL(url, 'http://placeholder.invalid').pathname;
  } catch {
    return null;
  }
  const segment = path.split('/').filter(Boolean).pop() ?? '';
  return UPLOAD_ID_PATTERN.test(segment) ? segment.toLowerCase() : null;
}

/**
 * tus §Concatenation: "In order to create a new final upload the Client
 * MUST add the Upload-Concat header to the upload creation request. The
 * value MUST be final followed by a semicolon and a space-separated list of
 * the partial upload URLs that need to be concatenated."
 */
export function parseUploadConcat(value: Header): TusConcat {
  const text = single(value)?.trim();
  if (text === undefined || text === '') return { kind: 'none' };
  if (text === 'partial') return { kind: 'partial' };
  if (!text.startsWith('final;')) throw new InvalidInputError('Upload-Concat must be "partial" or "final;<url> <url> …"');
  const urls = text.slice('final;'.length).trim().split(/\s+/).filter(Boolean);
  if (urls.length === 0) throw new InvalidInputError('Upload-Concat final lists no partial upload');
  if (urls.length > 1000) throw new InvalidInputError('Upload-Concat final lists more than 1000 partial uploads');
  const parts = urls.map((url) => {
    const id = uploadIdFromUrl(url);
    if (!id) throw new InvalidInputError(`Upload-Concat names an unknown upload URL: ${url.slice(0, 100)}`);
    return id;
  });
  return { kind: 'final', parts };
}

/**
 * tus §X-HTTP-Method-Override: "The X-HTTP-Method-Override request header
 * MUST be a string which MUST be interpreted as the request's method by the
 * Server, if the header is presented." Only the tus methods are honoured.
 */
export function methodOverride(value: Header): 'PATCH' | 'DELETE' | 'HEAD' | 'POST' | 'OPTIONS' | null {
  const method = single(value)?.trim().toUpperCase();
  if (!method) return null;
  if (method === 'PATCH' || method === 'DELETE' || method === 'HEAD' || method === 'POST' || method === 'OPTIONS') return method;
  throw new InvalidInputError('X-HTTP-Method-Override must be one of PATCH, DELETE, HEAD, POST, OPTIONS');
}

/** tus §Upload-Expires: "The value of the Upload-Expires header MUST be in RFC 7231 datetime format." */
export function httpDate(date: Date): string {
  return date.toUTCString();
}
