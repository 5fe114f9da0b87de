/**
 * The message of anything a `catch` receives: an `Error`'s (or error-like object's) `message`,
 * otherwise the value as a string. For log lines and health details, never for HTTP bodies.
 */
export function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}
