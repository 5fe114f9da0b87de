import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * A Writable that writes at an advancing position of an open file, batching
 * buffered socket reads into one writev(2). The caller owns the handle;
 * `onWritten` hears the running byte count after each write (e.g. to start
 * flushing what is down while the rest still arrives). With `limit`, a write
 * that would reach past that position fails (EFBIG) without writing: the
 * bytes from there on belong to another upload.
 */
export class PositionalWriter extends Writable {
  /** Bytes written to the file so far (counted once each write call has returned). */
  bytesWritten = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly handle: FileHandle,
    private position: number,
    private readonly onWritten?: (bytesWritten: number) => void,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(data: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.track(this.writeAll([data])).then(() => callback(), callback);
  }

  override _writev(entries: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.track(this.writeAll(entries.map((entry) => entry.chunk))).then(() => callback(), callback);
  }

  /** Resolves once no write is running (a destroyed stream may still have one in flight). */
  idle(): Promise<void> {
    return this.inFlight.catch(() => undefined);
  }

  private track(write: Promise<void>): Promise<void> {
    this.inFlight = write;
    return write;
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    if (this.position + total > this.limit) throw Object.assign(new Error("write past the end of the upload's region"), { code: 'EFBIG' });
    let { bytesWritten } = await this.handle.writev(buffers, this.position);
    // A short write is rare on regular files; finish the rest buffer by buffer.
    let offset = 0;
    for (const buffer of buffers) {
      const skip = Math.min(Math.max(bytesWritten - offset, 0), buffer.length);
      offset += buffer.length;
      let done = skip;
      while (done < buffer.length) {
        const result = await this.handle.write(buffer, done, buffer.length - done, this.position + offset - buffer.length + done);
        done += result.bytesWritten;
        bytesWritten += result.bytesWritten;
      }
    }
    this.position += total;
    this.bytesWritten += total;
    this.onWritten?.(this.bytesWritten);
  }
}
