/**
 * The benchmark scenarios (full size and `--quick`), as the README's Performance section
 * reports them: one row of the table below a scenario, built at the run's sizes.
 */
import { formatBytes } from 'nestjs-frago-client';
import type { DbKind } from './args';
import { GiB, KiB, MiB, RSS_LIMIT_MB } from './scenario';
import type { BodyMode, MetricKey, Scenario, ServerKind, TargetSpec } from './scenario';

const at = (kind: TargetSpec['kind'], value: number, source = 'issue 12'): TargetSpec => ({ kind, value, source });

/** The memory target, for every app in every scenario. */
const RSS_TARGET = at('absMax', RSS_LIMIT_MB);

const WHO: Record<ServerKind, string> = {
  app: 'app',
  'app-nofsync': 'app fsync off',
  baseline: 'baseline',
  'baseline-fsync': 'baseline+fsync',
  'tus-server': '@tus/server',
};

/** A contestant as `[key, server, body, parallel]`. */
type ContestantRow = [string, ServerKind, BodyMode, number];

/** A comparison as `[metric, of, vs, target]`. */
type ComparisonRow = [MetricKey, string, string, TargetSpec | null];

/**
 * One scenario of the table. `file`: which of the run's two file sizes; `chunk`: bytes, or
 * `'big'` for the run's big chunk (64 MiB, 16 MiB with `--quick`); `what`: the label's tail.
 */
interface ScenarioRow {
  id: string;
  file: 'big' | 'small';
  chunk: number | 'big';
  what: string;
  contestants: ContestantRow[];
  comparisons: ComparisonRow[];
  /** The contestant the app's peak RSS is printed beside (the memory target is the app's own figure). */
  rssVs?: 'tusd';
  dbs?: DbKind[];
}

/** @tus/server with @tus/file-store, one PATCH at a time. */
const TUSD: ContestantRow = ['tusd', 'tus-server', 'tus', 1];

/** The app and the bare baseline, both with the same body mode and parallelism. */
const appAndBaseline = (body: BodyMode, parallel: number): ContestantRow[] => [
  ['app', 'app', body, parallel],
  ['baseline', 'baseline', body, parallel],
];

/** The same contestants with the flushing baseline beside them. */
const withFsync = (body: BodyMode): ContestantRow[] => [...appAndBaseline(body, 1), ['fsync', 'baseline-fsync', body, 1]];

/** The big-chunk comparisons against the bare baseline, with the end-to-end and finalize targets where given. */
const bigVsBaseline = (endToEnd: TargetSpec | null, finalize: TargetSpec | null): ComparisonRow[] => [
  ['transferMBps', 'app', 'baseline', null],
  ['endToEndMBps', 'app', 'baseline', endToEnd],
  ['finalizeSeconds', 'app', 'baseline', finalize],
];

const ROWS: ScenarioRow[] = [
  {
    id: 'a',
    file: 'big',
    chunk: 8 * MiB,
    what: 'multipart ×4',
    contestants: appAndBaseline('multipart', 4),
    comparisons: bigVsBaseline(at('min', 0.9), at('max', 0.1)),
  },
  {
    id: 'b',
    file: 'big',
    chunk: 8 * MiB,
    what: 'raw ×4',
    contestants: appAndBaseline('raw', 4),
    comparisons: bigVsBaseline(at('min', 0.9), at('max', 0.1)),
  },
  {
    id: 'c',
    file: 'big',
    chunk: 'big',
    what: 'multipart ×8',
    contestants: appAndBaseline('multipart', 8),
    comparisons: bigVsBaseline(null, null),
  },
  {
    id: 'd',
    file: 'small',
    chunk: 64 * KiB,
    what: 'multipart ×8',
    contestants: appAndBaseline('multipart', 8),
    comparisons: [['chunksPerSecond', 'app', 'baseline', at('min', 0.5)]],
    dbs: ['sqlite', 'postgres', 'mysql'],
  },
  {
    // What tus-js-client and most mobile clients do: one chunk at a time, so nothing hides a flush.
    id: 'e',
    file: 'big',
    chunk: 8 * MiB,
    what: 'raw ×1 (sequential)',
    contestants: withFsync('raw'),
    comparisons: [...bigVsBaseline(at('min', 0.9), null), ['transferMBps', 'app', 'fsync', null]],
  },
  {
    id: 'f',
    file: 'small',
    chunk: 64 * KiB,
    what: 'raw ×1',
    contestants: [...withFsync('raw'), TUSD],
    comparisons: [
      ['chunksPerSecond', 'app', 'tusd', at('min', 1.0)],
      ['chunksPerSecond', 'app', 'baseline', null],
      // What one fdatasync per chunk leaves for a client that waits for each answer (the bound of this row).
      ['chunksPerSecond', 'app', 'fsync', null],
    ],
    rssVs: 'tusd',
  },
  {
    // The app's tus endpoint, sequential and parallel (concatenation), beside @tus/server (which cannot do parallel).
    id: 'g',
    file: 'big',
    chunk: 8 * MiB,
    what: 'tus',
    contestants: [['app', 'app', 'tus', 1], ['app4', 'app', 'tus', 4], TUSD],
    comparisons: [
      ['endToEndMBps', 'app', 'tusd', at('min', 1.0, 'issue 11')],
      ['endToEndMBps', 'app4', 'app', at('min', 1.5, 'issue 11')],
      ['endToEndMBps', 'app4', 'tusd', null],
    ],
    rssVs: 'tusd',
  },
  {
    id: 'h',
    file: 'small',
    chunk: 64 * KiB,
    what: 'tus ×1',
    contestants: [['app', 'app', 'tus', 1], TUSD],
    comparisons: [['chunksPerSecond', 'app', 'tusd', null]],
    rssVs: 'tusd',
  },
];

interface Sizes {
  big: number;
  small: number;
  /** The big-chunk rows' chunk size. */
  bigChunk: number;
}

/** Every scenario of the table at the given sizes. */
function scenarios(rows: ScenarioRow[], sizes: Sizes): Scenario[] {
  return rows.map((row) => {
    const fileSize = sizes[row.file];
    const chunkSize = row.chunk === 'big' ? sizes.bigChunk : row.chunk;
    const rss: ComparisonRow = ['peakRssMB', 'app', row.rssVs ?? 'baseline', RSS_TARGET];
    return {
      id: row.id,
      label: `(${row.id}) ${formatBytes(fileSize)} / ${formatBytes(chunkSize)} ${row.what}`,
      fileSize,
      chunkSize,
      contestants: row.contestants.map(([key, server, body, parallel]) => ({ key, server, body, parallel, label: `${WHO[server]} ${body} ×${parallel}` })),
      comparisons: [...row.comparisons, rss].map(([metric, of, vs, target]) => ({ metric, of, vs, target })),
      dbs: row.dbs ?? null,
    };
  });
}

/**
 * The row with `--ablate`: beside the app, the app with fsync off (and, for chunk-rate rows
 * without one, the flushing baseline at the same parallelism), compared on each figure that
 * has a throughput target. What the app loses against the baseline and the app with fsync off
 * does not is the cost of acknowledging only durable chunks; what both lose is everything else.
 */
function ablated(row: ScenarioRow): ScenarioRow {
  const app = row.contestants.find(([key]) => key === 'app');
  if (app === undefined || app[2] === 'tus') return row;
  const [, , body, parallel] = app;
  const contestants: ContestantRow[] = [...row.contestants, ['nofsync', 'app-nofsync', body, parallel]];
  const extra: ComparisonRow[] = [];
  for (const [metric, of, vs, target] of row.comparisons) {
    if (of === 'app' && target !== null && target.kind === 'min') extra.push([metric, 'nofsync', vs, null]);
  }
  const hasFsync = row.contestants.some(([, server]) => server === 'baseline-fsync');
  if (!hasFsync && row.chunk !== 'big' && row.chunk < MiB) {
    contestants.push(['fsync', 'baseline-fsync', body, parallel]);
    extra.push(['chunksPerSecond', 'app', 'fsync', null], ['chunksPerSecond', 'fsync', 'baseline', null]);
  }
  return { ...row, contestants, comparisons: [...row.comparisons, ...extra] };
}

export const SCENARIO_LETTERS = ROWS.map((row) => row.id);

const FULL_SIZES: Sizes = { big: 1 * GiB, small: 32 * MiB, bigChunk: 64 * MiB };
const QUICK_SIZES: Sizes = { big: 32 * MiB, small: 2 * MiB, bigChunk: 16 * MiB };

export function selectScenarios(letters: string[], quick: boolean, ablate = false): Scenario[] {
  const rows = ROWS.filter((row) => letters.includes(row.id)).map((row) => (ablate ? ablated(row) : row));
  return scenarios(rows, quick ? QUICK_SIZES : FULL_SIZES);
}
