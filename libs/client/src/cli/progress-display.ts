/**
 * The CLI's progress output on stderr: a bar redrawn in place (at most 10
 * times a second) on a terminal, plain lines every 2 s otherwise.
 */
import type { UploadProgress } from '../progress';
import { formatBytes } from '../format-bytes';
import { formatDuration } from './units';

/** A writable text stream, as far as the display needs one. */
export interface DisplayStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Shows progress snapshots; `stop()` leaves the cursor on a fresh line. */
export interface ProgressDisplay {
  /** Records the latest snapshot (drawn on the next tick). */
  update(progress: UploadProgress): void;
  /** Draws the last snapshot one final time and stops the timer. */
  stop(): void;
}

/** Percent of acknowledged bytes, one decimal. */
function percent(p: UploadProgress): string {
  const ratio = p.totalBytes > 0 ? p.acknowledgedBytes / p.totalBytes : 1;
  return `${(ratio * 100).toFixed(1)}%`;
}

/** The words after the numbers: rate and ETA, or what the upload is waiting for. */
function status(p: UploadProgress): string {
  if (p.phase === 'starting') return 'starting';
  if (p.phase === 'finalizing') return 'server verifying checksum';
  if (p.phase === 'done') return 'done';
  return `${formatBytes(p.bytesPerSecond)}/s  ETA ${formatDuration(p.etaSeconds)}`;
}

/** One terminal line: `[██████░░░░]  42.1%  421.0 MiB / 1.0 GiB  85.3 MiB/s  ETA 0:07`. */
export function renderBar(p: UploadProgress, columns: number): string {
  const text = ` ${percent(p).padStart(6)}  ${formatBytes(p.acknowledgedBytes)} / ${formatBytes(p.totalBytes)}  ${status(p)}`;
  const width = Math.max(10, Math.min(30, columns - 60)); // fixed, so the bar does not jump as the text changes
  const filled = p.totalBytes > 0 ? Math.round((p.acknowledgedBytes / p.totalBytes) * width) : width;
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${text}`;
  return bar.length < columns ? bar : bar.slice(0, Math.max(0, columns - 1));
}

/** One log line: `frago-upload: 42.1% (421.0 MiB of 1.0 GiB), 85.3 MiB/s, ETA 0:07`. */
export function renderLine(p: UploadProgress): string {
  return `frago-upload: ${percent(p)} (${formatBytes(p.acknowledgedBytes)} of ${formatBytes(p.totalBytes)}), ${status(p).replace('  ', ', ')}`;
}

/** Creates the display suited to `stream`: a redrawn bar on a TTY, periodic lines otherwise. */
export function createProgressDisplay(stream: DisplayStream): ProgressDisplay {
  const tty = stream.isTTY === true;
  let latest: UploadProgress | undefined;
  let drawn: UploadProgress | undefined;
  const draw = (): void => {
    if (latest === undefined || latest === drawn) return;
    drawn = latest;
    if (tty) stream.write(`\r${renderBar(latest, stream.columns || 80)}\x1b[K`);
    else stream.write(`${renderLine(latest)}\n`);
  };
  const timer = setInterval(draw, tty ? 100 : 2000);
  timer.unref();
  return {
    update: (progress) => {
      latest = progress;
    },
    stop: () => {
      clearInterval(timer);
      draw();
      if (tty && drawn !== undefined) stream.write('\n');
    },
  };
}
