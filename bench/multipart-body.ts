/**
 * A multipart/form-data body with one file part named `file`, built as a stream:
 * preamble, then the file's bytes [start, end] streamed from disk, then the epilogue.
 * Its exact length is known up front, so it is sent with a Content-Length.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export interface StreamBody {
  length: number;
  contentType: string;
  /** Writes the whole body into `dest` and ends it; read errors go to `onError`. */
  send(dest: Writable, onError: (err: Error) => void): void;
}

/** Largest read per stream piece; small chunks use their own size. */
const MAX_READ = 1024 * 1024;

export function newBoundary(): string {
  return `----frago-bench-${randomBytes(12).toString('hex')}`;
}

/** The file's bytes [start, end] (inclusive) as a stream over an open descriptor. */
export function fileRange(fd: number, start: number, end: number): Readable {
  const highWaterMark = Math.min(MAX_READ, end - start + 1);
  // `fd` is already open: no open/close per chunk, and reads are positional (pread).
  return createReadStream('', { fd, start, end, autoClose: false, emitClose: false, highWaterMark });
}

export function rawBody(fd: number, start: number, end: number): StreamBody {
  return {
    length: end - start + 1,
    contentType: 'application/octet-stream',
    send(dest, onError) {
      fileRange(fd, start, end).on('error', onError).pipe(dest);
    },
  };
}

export function multipartBody(fd: number, start: number, end: number, boundary: string, filename = 'blob'): StreamBody {
  const preamble = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${filename.replace(/["\r\n\\]/g, '_')}"\r\n` +
      'Content-Type: application/octet-stream\r\n' +
      '\r\n',
    'latin1',
  );
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  return {
    length: preamble.length + (end - start + 1) + epilogue.length,
    contentType: `multipart/form-data; boundary=${boundary}`,
    send(dest, onError) {
      dest.write(preamble);
      const bytes = fileRange(fd, start, end);
      bytes.on('error', onError);
      bytes.once('end', () => dest.end(epilogue));
      bytes.pipe(dest, { end: false });
    },
  };
}
