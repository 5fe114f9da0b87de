/**
 * An upload id is a UUID in its canonical 8-4-4-4-12 hex form; the server
 * creates them lower case and accepts any case in a URL.
 */

/** The pattern's text without anchors, to embed in a route pattern. */
export const UPLOAD_ID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Matches a whole upload id (any case). */
export const UPLOAD_ID_PATTERN = new RegExp(`^${UPLOAD_ID_SOURCE}$`, 'i');
