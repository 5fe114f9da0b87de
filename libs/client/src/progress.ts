/**
 * Progress accounting: counters, a sliding-window transfer rate and an ETA,
 * delivered to the caller's `onProgress` as plain snapshots.
 */

/** Where an upload stands. */
export type UploadPhase = 'starting' | 'uploading' | 'finalizing' | 'done';

/** A snapshot passed to `onProgress`. All sizes are in bytes. */
export interface UploadProgress {
  /** The upload's id, once started or resumed. */
  uploadId?: string;
  /** Current phase. */
  phase: UploadPhase;
  /** Size of the file. */
  totalBytes: number;
  /** Bytes handed to the network by this run (chunks in flight or acknowledged; a retry is not counted twice). */
  sentBytes: number;
  /** Bytes the server holds: acknowledged by this run plus `resumedBytes`. */
  acknowledgedBytes: number;
  /** Bytes the server already held when this run resumed the upload. */
  resumedBytes: number;
  /** Bytes read and fed to the whole-file checksum so far. */
  hashedBytes: number;
  /** Acknowledged bytes per second over the last few seconds of this run. */
  bytesPerSecond: number;
  /** Estimated seconds until every byte is acknowledged, or null when unknown. */
  etaSeconds: number | null;
}

/** Callback receiving progress snapshots. */
export type ProgressListener = (progress: UploadProgress) => void;

/** Width of the window the rate is measured over, in ms. */
const RATE_WINDOW_MS = 5000;

/** Mutable counters behind the snapshots; one per upload run. */
export class ProgressTracker {
  private readonly samples: { at: number; bytes: number }[] = [];
  private sessionAcked = 0;
  private state: Omit<UploadProgress, 'bytesPerSecond' | 'etaSeconds' | 'acknowledgedBytes'>;

  constructor(
    totalBytes: number,
    private readonly listener?: ProgressListener,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.state = { phase: 'starting', totalBytes, sentBytes: 0, resumedBytes: 0, hashedBytes: 0 };
    this.samples.push({ at: this.now(), bytes: 0 });
  }

  /** Records the upload id and the bytes the server already holds. */
  begin(uploadId: string, resumedBytes: number): void {
    this.state.uploadId = uploadId;
    this.state.resumedBytes = resumedBytes;
    this.state.phase = 'uploading';
    this.emit();
  }

  /** Counts bytes read into the checksum. */
  hashed(bytes: number): void {
    this.state.hashedBytes += bytes;
  }

  /** Counts a chunk handed to the network for the first time. */
  sent(bytes: number): void {
    this.state.sentBytes += bytes;
    this.emit();
  }

  /** Counts a chunk the server acknowledged. */
  acknowledged(bytes: number): void {
    this.sessionAcked += bytes;
    this.samples.push({ at: this.now(), bytes: this.sessionAcked });
    this.emit();
  }

  /** Moves to another phase and reports it. */
  phase(phase: UploadPhase): void {
    this.state.phase = phase;
    this.emit();
  }

  /** The current snapshot. */
  snapshot(): UploadProgress {
    const acknowledgedBytes = this.state.resumedBytes + this.sessionAcked;
    const bytesPerSecond = this.rate();
    const remaining = this.state.totalBytes - acknowledgedBytes;
    const etaSeconds = remaining <= 0 ? 0 : bytesPerSecond > 0 ? remaining / bytesPerSecond : null;
    return { ...this.state, acknowledgedBytes, bytesPerSecond, etaSeconds };
  }

  /** Acknowledged bytes per second over the last `RATE_WINDOW_MS` (the whole run when shorter). */
  private rate(): number {
    const now = this.now();
    while (this.samples.length > 2 && now - this.samples[1].at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const elapsed = now - first.at;
    return elapsed > 0 ? ((this.sessionAcked - first.bytes) * 1000) / elapsed : 0;
  }

  private emit(): void {
    this.listener?.(this.snapshot());
  }
}
