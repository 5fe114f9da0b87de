const MAX_SEGMENT_BYTES = 200;
const FALLBACK_NAME = 'upload';

/**
 * One path segment made safe: no separators, control characters or leading
 * dots, only letters, digits and `._-+()@ `, at most 200 bytes with the
 * extension kept. Never empty: the client's name is never used as a path.
 */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  let cleaned = base
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._\-+()@ ]/gu, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .replace(/_{2,}/g, '_');
  if (cleaned === '' || /^_+$/.test(cleaned)) cleaned = FALLBACK_NAME;
  return truncateKeepingExtension(cleaned, MAX_SEGMENT_BYTES);
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - ext.length);
  while (Buffer.byteLength(stem + ext) > maxBytes) stem = Array.from(stem).slice(0, -1).join('');
  return stem + ext;
}

/**
 * A relative path (from `AbstractChunkUpload.assembledPath()`) made safe:
 * every segment sanitised, `.`/`..`/empty segments dropped, so the result
 * always stays inside the folder it is joined to.
 */
export function confineRelativePath(path: string): string {
  const segments = path
    .split(/[\\/]+/)
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .map(safeFilename);
  return segments.length === 0 ? FALLBACK_NAME : segments.join('/');
}

/** `name.ext` → `name-N.ext`: the N-th alternative when the name is taken. */
export function numberedAlternative(relativePath: string, n: number): string {
  return suffixedAlternative(relativePath, String(n));
}

/**
 * `name.ext` → `name-SUFFIX.ext`, the last segment kept within the segment
 * limit (the stem is shortened, the suffix and extension kept).
 */
export function suffixedAlternative(relativePath: string, suffix: string): string {
  const slash = relativePath.lastIndexOf('/');
  const dir = slash >= 0 ? relativePath.slice(0, slash + 1) : '';
  const file = relativePath.slice(slash + 1);
  const dot = file.lastIndexOf('.');
  const ext = dot > 0 ? file.slice(dot) : '';
  let stem = dot > 0 ? file.slice(0, dot) : file;
  const tail = `-${suffix}${ext}`;
  while (stem.length > 1 && Buffer.byteLength(stem + tail) > MAX_SEGMENT_BYTES) stem = Array.from(stem).slice(0, -1).join('');
  return `${dir}${stem}${tail}`;
}

/**
 * Checks the filename a client sends to start an upload: returns an error message, or null
 * when acceptable. Empty, over 255 bytes, only dots/separators/spaces, or
 * holding NUL or another control character are refused.
 */
export function filenameProblem(filename: string): string | null {
  if (filename.length === 0) return 'filename must not be empty';
  if (Buffer.byteLength(filename, 'utf8') > 255) return 'filename must be at most 255 bytes';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(filename)) return 'filename must not contain control characters';
  if (/^[.\s\\/]+$/.test(filename)) return 'filename must contain more than dots, spaces and separators';
  if (/[\ud800-\udfff]/.test(filename.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    return 'filename must be valid Unicode';
  }
  return null;
}
