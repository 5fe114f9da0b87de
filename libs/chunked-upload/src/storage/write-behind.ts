import type { FileHandle } from 'node:fs/promises';

/** Bytes a write puts down before a flush of them starts while the rest still arrives. */
const FLUSH_EVERY = 1024 * 1024;

/** fdatasync calls started early by all writers of one storage at once (each holds a libuv pool thread). */
export class FlushGate {
  active = 0;
  constructor(readonly max: number) {}
}

/**
 * Write-behind flushing for one chunk write: once `FLUSH_EVERY` bytes more
 * are down, an fdatasync of the file starts while the body keeps arriving,
 * so the flush that must finish before the chunk counts (the caller's own,
 * unchanged) only has the tail left to write. At most one per writer runs,
 * and at most `gate.max` across writers, so pool threads stay free for the
 * writes. An early flush's error is kept and reported by `settle()`: on
 * Linux a failed fdatasync may clear the error, so a later one could
 * succeed without the data being on disk; that write must then fail.
 */
export class WriteBehind {
  private running: Promise<void> | null = null;
  private startedAt = 0;
  private failure: Error | null = null;

  constructor(
    private readonly handle: FileHandle,
    private readonly gate: FlushGate,
  ) {}

  /** Called with the bytes written so far. */
  progress(bytesWritten: number): void {
    if (this.running || this.failure !== null || bytesWritten - this.startedAt < FLUSH_EVERY || this.gate.active >= this.gate.max) return;
    this.startedAt = bytesWritten;
    this.gate.active++;
    this.running = this.handle
      .datasync()
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.gate.active--;
        this.running = null;
      });
  }

  /** Waits for the early flush in flight; throws the error of any early flush that failed. */
  async settle(): Promise<void> {
    await this.running;
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for the early flush in flight, ignoring its outcome (before the handle closes). */
  async idle(): Promise<void> {
    await this.running;
  }
}
