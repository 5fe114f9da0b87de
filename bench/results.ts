/** Measured figures of one upload, and the medians over runs. */
import type { DbKind } from './args';
import type { DbActivity } from './databases';
import type { Contestant, Scenario } from './scenario';
import type { UploadTimings } from './uploader';

export const MB = 1_000_000;

export interface RunFigures {
  transferMBps: number;
  endToEndMBps: number;
  finalizeSeconds: number;
  chunksPerSecond: number;
  totalSeconds: number;
}

export interface ServerFigures {
  name: string;
  runs: RunFigures[];
  median: RunFigures;
  peakRssBytes: number | null;
  /** Bytes the server left in its chunk area after completed uploads (summed over runs). */
  leftoverChunkBytes: number;
}

/** One contestant's figures in a row. */
export interface ContestantResult {
  contestant: Contestant;
  figures: ServerFigures;
}

/** CPU the database server's processes used during the app's measured runs (whoever else used the server meanwhile counts too). */
export interface ServerCpu {
  seconds: number;
  /** Chunk requests of those runs. */
  chunks: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  db: DbKind;
  label: string;
  /** Every contestant measured (empty when skipped). */
  contestants: ContestantResult[];
  /** 1-minute load average when the row ended. */
  loadAverage: number | null;
  /** Why this row was not measured, when it was not. */
  skipped: string | null;
  /** The app's database work over the whole row (warm-up included), when the database reports it. */
  dbActivity: (DbActivity & { chunkRequests: number; uploads: number }) | null;
  dbServerCpu: ServerCpu | null;
}

export function figuresOf(fileSize: number, t: UploadTimings): RunFigures {
  return {
    transferMBps: fileSize / MB / t.transferSeconds,
    endToEndMBps: fileSize / MB / t.totalSeconds,
    finalizeSeconds: t.finalizeSeconds,
    chunksPerSecond: t.chunks / t.transferSeconds,
    totalSeconds: t.totalSeconds,
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function medianFigures(runs: RunFigures[]): RunFigures {
  const of = (key: keyof RunFigures): number => median(runs.map((r) => r[key]));
  return {
    transferMBps: of('transferMBps'),
    endToEndMBps: of('endToEndMBps'),
    finalizeSeconds: of('finalizeSeconds'),
    chunksPerSecond: of('chunksPerSecond'),
    totalSeconds: of('totalSeconds'),
  };
}

export function rowLabel(scenario: Scenario, db: DbKind): string {
  return scenario.label.replace(/^\((\w)\) /, `($1) ${db}: `);
}
