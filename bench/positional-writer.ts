/** A Writable that writes its bytes into an open file at [start, end] with positional writes. */
import { write, writev } from 'node:fs';
import { Writable } from 'node:stream';

export class RangeOverflowError extends Error {
  constructor(readonly limit: number) {
    super(`body longer than the ${limit} bytes announced`);
  }
}

/** Writes every byte of `buffers` at `position`, continuing after short writes. */
function writeFully(fd: number, buffers: Buffer[], position: number, done: (err: Error | null) => void): void {
  const total = buffers.reduce((sum, b) => sum + b.length, 0);
  const onWritten = (err: Error | null, written: number): void => {
    if (err) {
      done(err);
      return;
    }
    if (written === total) {
      done(null);
      return;
    }
    // Short write (rare on regular files): skip what was written and go on.
    let skip = written;
    const rest: Buffer[] = [];
    for (const b of buffers) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    writeFully(fd, rest, position + written, done);
  };
  if (buffers.length === 1) write(fd, buffers[0], 0, buffers[0].length, position, onWritten);
  else writev(fd, buffers, position, onWritten);
}

export class PositionalWriter extends Writable {
  /** Bytes accepted so far. */
  written = 0;
  private readonly limit: number;

  constructor(
    private readonly fd: number,
    private readonly start: number,
    endInclusive: number,
  ) {
    super({ highWaterMark: 1024 * 1024, decodeStrings: true });
    this.limit = endInclusive - start + 1;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeBuffers([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    this.writeBuffers(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  private writeBuffers(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    const length = buffers.reduce((sum, b) => sum + b.length, 0);
    if (this.written + length > this.limit) {
      callback(new RangeOverflowError(this.limit));
      return;
    }
    const position = this.start + this.written;
    this.written += length;
    writeFully(this.fd, buffers, position, (err) => callback(err));
  }
}
