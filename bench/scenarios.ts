/**
 * The benchmark scenarios (full size and `--quick`), as the README's Performance section
 * reports them. A scenario is one file geometry with its contestants — the example app and
 * its comparators, measured in the same row of the same run — and the comparisons (with the
 * issues' targets) the table prints.
 */
import { formatBytes } from 'nestjs-frago-client';
import type { DbKind } from './args';

/** How a contestant's chunks travel: frago PUTs (multipart or raw body) or tus PATCHes (tus-js-client). */
export type BodyMode = 'multipart' | 'raw' | 'tus';

/**
 * The server behind a contestant: the example app, the bare baseline, the baseline flushing
 * (fdatasync) each chunk before its answer — the ceiling for durable chunks — or @tus/server
 * with @tus/file-store.
 */
export type ServerKind = 'app' | 'baseline' | 'baseline-fsync' | 'tus-server';

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
  /** Where the target comes from, e.g. "issue 12". */
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

/** The issues' memory target, for every app in every scenario (issue 12). */
export const RSS_LIMIT_MB = 150;

const at = (kind: TargetSpec['kind'], value: number, source = 'issue 12'): TargetSpec => ({ kind, value, source });

function frago(key: string, server: ServerKind, body: BodyMode, parallel: number): Contestant {
  const who = { app: 'app', baseline: 'baseline', 'baseline-fsync': 'baseline+fsync', 'tus-server': '@tus/server' }[server];
  return { key, server, body, parallel, label: `${who} ${body} ×${parallel}` };
}

interface Sizes {
  big: number;
  small: number;
}

/** Every scenario at the given sizes (`big`: the 8/64 MiB-chunk files, `small`: the 64 KiB-chunk ones). */
function scenarios({ big, small }: Sizes, bigChunk64: number): Scenario[] {
  const label = (id: string, fileSize: number, chunkSize: number, what: string): string =>
    `(${id}) ${formatBytes(fileSize)} / ${formatBytes(chunkSize)} ${what}`;
  const vsBaseline = (metrics: Array<[MetricKey, TargetSpec | null]>): Comparison[] =>
    metrics.map(([metric, target]) => ({ metric, of: 'app', vs: 'baseline', target }));
  const rss: [MetricKey, TargetSpec | null] = ['peakRssMB', at('absMax', RSS_LIMIT_MB)];
  return [
    {
      id: 'a',
      label: label('a', big, 8 * MiB, 'multipart ×4'),
      fileSize: big,
      chunkSize: 8 * MiB,
      contestants: [frago('app', 'app', 'multipart', 4), frago('baseline', 'baseline', 'multipart', 4)],
      comparisons: vsBaseline([['transferMBps', null], ['endToEndMBps', at('min', 0.9)], ['finalizeSeconds', at('max', 0.1)], rss]),
      dbs: null,
    },
    {
      id: 'b',
      label: label('b', big, 8 * MiB, 'raw ×4'),
      fileSize: big,
      chunkSize: 8 * MiB,
      contestants: [frago('app', 'app', 'raw', 4), frago('baseline', 'baseline', 'raw', 4)],
      comparisons: vsBaseline([['transferMBps', null], ['endToEndMBps', at('min', 0.9)], ['finalizeSeconds', at('max', 0.1)], rss]),
      dbs: null,
    },
    {
      id: 'c',
      label: label('c', big, bigChunk64, 'multipart ×8'),
      fileSize: big,
      chunkSize: bigChunk64,
      contestants: [frago('app', 'app', 'multipart', 8), frago('baseline', 'baseline', 'multipart', 8)],
      comparisons: vsBaseline([['transferMBps', null], ['endToEndMBps', null], ['finalizeSeconds', null], rss]),
      dbs: null,
    },
    {
      id: 'd',
      label: label('d', small, 64 * KiB, 'multipart ×8'),
      fileSize: small,
      chunkSize: 64 * KiB,
      contestants: [frago('app', 'app', 'multipart', 8), frago('baseline', 'baseline', 'multipart', 8)],
      comparisons: vsBaseline([['chunksPerSecond', at('min', 0.5)], rss]),
      dbs: ['sqlite', 'postgres', 'mysql'],
    },
    {
      // What tus-js-client and most mobile clients do: one chunk at a time, so nothing hides a flush.
      id: 'e',
      label: label('e', big, 8 * MiB, 'raw ×1 (sequential)'),
      fileSize: big,
      chunkSize: 8 * MiB,
      contestants: [frago('app', 'app', 'raw', 1), frago('baseline', 'baseline', 'raw', 1), frago('fsync', 'baseline-fsync', 'raw', 1)],
      comparisons: [
        ...vsBaseline([
          ['transferMBps', null],
          ['endToEndMBps', at('min', 0.9)],
          ['finalizeSeconds', null],
        ]),
        { metric: 'transferMBps', of: 'app', vs: 'fsync', target: null },
        ...vsBaseline([rss]),
      ],
      dbs: null,
    },
    {
      id: 'f',
      label: label('f', small, 64 * KiB, 'raw ×1'),
      fileSize: small,
      chunkSize: 64 * KiB,
      contestants: [
        frago('app', 'app', 'raw', 1),
        frago('baseline', 'baseline', 'raw', 1),
        frago('fsync', 'baseline-fsync', 'raw', 1),
        frago('tusd', 'tus-server', 'tus', 1),
      ],
      comparisons: [
        { metric: 'chunksPerSecond', of: 'app', vs: 'tusd', target: at('min', 1.0) },
        { metric: 'chunksPerSecond', of: 'app', vs: 'baseline', target: null },
        // What one fdatasync per chunk leaves for a client that waits for each answer (the bound of this row).
        { metric: 'chunksPerSecond', of: 'app', vs: 'fsync', target: null },
        { metric: 'peakRssMB', of: 'app', vs: 'tusd', target: at('absMax', RSS_LIMIT_MB) },
      ],
      dbs: null,
    },
    {
      // The app's tus endpoint, sequential and parallel (concatenation), beside @tus/server (which cannot do parallel).
      id: 'g',
      label: label('g', big, 8 * MiB, 'tus'),
      fileSize: big,
      chunkSize: 8 * MiB,
      contestants: [frago('app', 'app', 'tus', 1), frago('app4', 'app', 'tus', 4), frago('tusd', 'tus-server', 'tus', 1)],
      comparisons: [
        { metric: 'endToEndMBps', of: 'app', vs: 'tusd', target: at('min', 1.0, 'issue 11') },
        { metric: 'endToEndMBps', of: 'app4', vs: 'app', target: at('min', 1.5, 'issue 11') },
        { metric: 'endToEndMBps', of: 'app4', vs: 'tusd', target: null },
        { metric: 'peakRssMB', of: 'app', vs: 'tusd', target: at('absMax', RSS_LIMIT_MB) },
      ],
      dbs: null,
    },
    {
      id: 'h',
      label: label('h', small, 64 * KiB, 'tus ×1'),
      fileSize: small,
      chunkSize: 64 * KiB,
      contestants: [frago('app', 'app', 'tus', 1), frago('tusd', 'tus-server', 'tus', 1)],
      comparisons: [
        { metric: 'chunksPerSecond', of: 'app', vs: 'tusd', target: null },
        { metric: 'peakRssMB', of: 'app', vs: 'tusd', target: at('absMax', RSS_LIMIT_MB) },
      ],
      dbs: null,
    },
  ];
}

export const SCENARIO_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

const FULL = scenarios({ big: 1 * GiB, small: 32 * MiB }, 64 * MiB);
const QUICK = scenarios({ big: 32 * MiB, small: 2 * MiB }, 16 * MiB);

export function selectScenarios(letters: string[], quick: boolean): Scenario[] {
  const all = quick ? QUICK : FULL;
  return all.filter((s) => letters.includes(s.id));
}

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
