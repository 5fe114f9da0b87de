/**
 * Recognises the errors Node raises when a client goes away mid-request: an
 * abort (AbortSignal, `ABORT_ERR`), a reset socket (`ECONNRESET`, the
 * request's "aborted"), or a stream closed before its end. Only the HTTP edge
 * asks this; services learn of a departed client through the chunk source's
 * AbortSignal.
 */
export function isClientDisconnect(error: unknown): boolean {
  const failure = error as NodeJS.ErrnoException | null | undefined;
  const code = failure?.code;
  return (
    failure?.name === 'AbortError' || code === 'ABORT_ERR' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || failure?.message === 'aborted'
  );
}
