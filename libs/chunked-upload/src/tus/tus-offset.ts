/** The tus offset of an upload: the end of the contiguous run of stored bytes from 0 (pure). */
export function contiguousOffset(chunks: ReadonlyArray<{ start: number; end: number }>): number {
  let offset = 0;
  for (const chunk of [...chunks].sort((a, b) => a.start - b.start)) {
    if (chunk.start > offset) break;
    offset = Math.max(offset, chunk.end + 1);
  }
  return offset;
}
