/**
 * What a benchmark scenario is: one file geometry with its contestants (the example app and
 * its comparators, measured in the same row of the same run) and the comparisons, with their
 * targets, that the table prints; and the unmeasured warm-up that precedes its runs. The
 * scenarios themselves are in `scenarios.ts`.
 */
import type { DbKind } from './args';

/** How a contestant's chunks travel: frago PUTs (multipart or raw body) or tus PATCHes (tus-js-client). */
export type BodyMode = 'multipart' | 'raw' | 'tus';

/**
 * The server behind a contestant: the example app, the bare baseline, the baseline flushing
 * (fdatasync) each chunk before its answer — the ceiling for durable chunks — or @tus/server
 * with @tus/file-store. `app-nofsync` (only with `--ablate`) is the example app with
 * `FRAGO_FSYNC=false`: the app without its durability guarantee, to show what that costs.
 */
export type ServerKind = 'app' | 'app-nofsync' | 'baseline' | 'baseline-fsync' | 'tus-server';

export interface Contestant {
  /** Unique within its scenario; comparisons name contestants by key. */
  key: string;
  server: ServerKind;
  body: BodyMode;
  /** Chunks in flight (tus: tus-js-client's `parallelUploads`). */
  parallel: number;
  /** Column text, e.g. "app tus ×4". */
  label: string;
}

export type MetricKey = 'transferMBps' | 'endToEndMBps' | 'finalizeSeconds' | 'chunksPerSecond' | 'peakRssMB';

export interface TargetSpec {
  /** `min`: ratio ≥ value; `max`: ratio ≤ value; `absMax`: the app's own figure ≤ value. */
  kind: 'min' | 'max' | 'absMax';
  value: number;
  /** Where the target comes from, printed beside it. */
  source: string;
}

export interface Comparison {
  metric: MetricKey;
  /** Contestant keys: the figure of `of` divided by the figure of `vs`. */
  of: string;
  vs: string;
  target: TargetSpec | null;
}

export interface Scenario {
  /** Letter as given to `--scenario`. */
  id: string;
  /** Short human label for the table. */
  label: string;
  fileSize: number;
  chunkSize: number;
  contestants: Contestant[];
  comparisons: Comparison[];
  /** Databases the app runs on, one row each; null: the `--db` option's. */
  dbs: DbKind[] | null;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** The memory target for every app in every scenario (peak RSS, MB). */
export const RSS_LIMIT_MB = 150;

/** Chunks the app receives for one upload of the scenario. */
export function chunkCount(scenario: Scenario): number {
  return Math.ceil(scenario.fileSize / scenario.chunkSize);
}

/** Whether a scenario is about the per-chunk cost (small chunks: chunks/s is its figure). */
export function isChunkRateScenario(scenario: Scenario): boolean {
  return scenario.chunkSize < MiB;
}

export interface Warmup {
  fileSize: number;
  chunkSize: number;
  uploads: number;
}

/**
 * Unmeasured uploads that bring a fresh server (and the uploader) to a steady state
 * before the measured runs: JIT tiers, connection pools, page cache. Small chunks
 * need thousands of requests for that; big ones a few hundred MiB. `--quick` warms
 * up with a fraction of that.
 */
export function warmupOf(scenario: Scenario, quick: boolean): Warmup {
  if (isChunkRateScenario(scenario)) {
    const fileSize = Math.min(scenario.fileSize, 32 * MiB);
    const requests = quick ? 256 : 2048;
    const uploads = Math.max(1, Math.min(8, Math.ceil((requests * scenario.chunkSize) / fileSize)));
    return { fileSize, chunkSize: scenario.chunkSize, uploads };
  }
  const fileSize = Math.min(scenario.fileSize, quick ? 16 * MiB : 256 * MiB);
  return { fileSize, chunkSize: Math.min(scenario.chunkSize, 8 * MiB), uploads: 1 };
}
