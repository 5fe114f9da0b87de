/** The results table (plain text or Markdown): every comparison of every row, its ratio and the issues' target; and the JSON output. */
import { MB } from './results';
import type { ContestantResult, ScenarioResult } from './results';
import type { Comparison, MetricKey, TargetSpec } from './scenario';

interface TableRow {
  scenario: string;
  metric: string;
  app: string;
  appValue: string;
  vs: string;
  vsValue: string;
  ratio: string;
  target: string;
  load: string;
}

const COLUMNS: Array<[keyof TableRow, string, 'left' | 'right']> = [
  ['scenario', 'scenario', 'left'],
  ['metric', 'metric', 'left'],
  ['app', 'app', 'left'],
  ['appValue', 'value', 'right'],
  ['vs', 'against', 'left'],
  ['vsValue', 'value', 'right'],
  ['ratio', 'ratio', 'right'],
  ['target', 'target', 'left'],
  ['load', 'load', 'right'],
];

const METRICS: Record<MetricKey, { name: string; digits: number }> = {
  transferMBps: { name: 'transfer MB/s', digits: 1 },
  endToEndMBps: { name: 'end-to-end MB/s', digits: 1 },
  finalizeSeconds: { name: 'finalize s', digits: 3 },
  chunksPerSecond: { name: 'chunks/s', digits: 0 },
  peakRssMB: { name: 'peak RSS MB', digits: 0 },
};

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function valueOf(result: ContestantResult | undefined, metric: MetricKey): number {
  if (result === undefined) return Number.NaN;
  if (metric === 'peakRssMB') return result.figures.peakRssBytes === null ? Number.NaN : result.figures.peakRssBytes / MB;
  return result.figures.median[metric];
}

function targetText(target: TargetSpec | null, app: number, vs: number): string {
  if (target === null) return '';
  const text = target.kind === 'min' ? `≥ ${target.value.toFixed(2)}×` : target.kind === 'max' ? `≤ ${target.value.toFixed(2)}×` : `≤ ${target.value} MB`;
  const measured = target.kind === 'absMax' ? app : app / vs;
  if (!Number.isFinite(measured) || (target.kind !== 'absMax' && !(vs > 0))) return `${text} (${target.source})`;
  const met = target.kind === 'min' ? measured >= target.value : measured <= target.value;
  return `${text} ${met ? 'met' : 'MISSED'} (${target.source})`;
}

/** Whether a comparison's target is set and missed (for the summary line). */
function missed(comparison: Comparison, results: ContestantResult[]): boolean {
  const target = comparison.target;
  if (target === null) return false;
  const app = valueOf(
    results.find((r) => r.contestant.key === comparison.of),
    comparison.metric,
  );
  const vs = valueOf(
    results.find((r) => r.contestant.key === comparison.vs),
    comparison.metric,
  );
  const measured = target.kind === 'absMax' ? app : app / vs;
  if (!Number.isFinite(measured)) return false;
  return target.kind === 'min' ? measured < target.value : measured > target.value;
}

export function tableRows(results: ScenarioResult[]): TableRow[] {
  const rows: TableRow[] = [];
  const empty = { app: '', appValue: '', vs: '', vsValue: '', ratio: '', target: '', load: '' };
  for (const result of results) {
    if (result.skipped !== null) {
      rows.push({ ...empty, scenario: result.label, metric: `skipped: ${result.skipped}` });
      continue;
    }
    let first = true;
    for (const comparison of result.scenario.comparisons) {
      const of = result.contestants.find((r) => r.contestant.key === comparison.of);
      const vs = result.contestants.find((r) => r.contestant.key === comparison.vs);
      const metric = METRICS[comparison.metric];
      const app = valueOf(of, comparison.metric);
      const other = valueOf(vs, comparison.metric);
      rows.push({
        scenario: first ? result.label : '',
        metric: metric.name,
        app: of?.contestant.label ?? comparison.of,
        appValue: fmt(app, metric.digits),
        vs: vs?.contestant.label ?? comparison.vs,
        vsValue: fmt(other, metric.digits),
        ratio: Number.isFinite(app) && Number.isFinite(other) && other > 0 ? `${(app / other).toFixed(2)}×` : '—',
        target: targetText(comparison.target, app, other),
        load: first && result.loadAverage !== null ? result.loadAverage.toFixed(1) : '',
      });
      first = false;
    }
  }
  return rows;
}

/** "all targets met", or the count and list of the missed ones. */
export function targetSummary(results: ScenarioResult[]): string {
  const misses: string[] = [];
  let total = 0;
  for (const result of results) {
    if (result.skipped !== null) continue;
    for (const comparison of result.scenario.comparisons) {
      if (comparison.target === null) continue;
      total++;
      if (missed(comparison, result.contestants)) misses.push(`${result.label}: ${METRICS[comparison.metric].name} ${comparison.of} vs ${comparison.vs}`);
    }
  }
  if (misses.length === 0) return `targets: all ${total} met`;
  return `targets: ${total - misses.length} of ${total} met; missed:\n${misses.map((m) => `  - ${m}`).join('\n')}`;
}

export function renderText(rows: TableRow[]): string {
  const widths = COLUMNS.map(([key, title]) => Math.max(title.length, ...rows.map((r) => r[key].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (COLUMNS[i][2] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(COLUMNS.map(([, title]) => title)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) out.push(line(COLUMNS.map(([key]) => row[key])));
  return out.join('\n');
}

export function renderMarkdown(rows: TableRow[]): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`| ${COLUMNS.map(([, title]) => title).join(' | ')} |`, `| ${COLUMNS.map(([, , align]) => (align === 'right' ? '---:' : '---')).join(' | ')} |`];
  for (const row of rows) out.push(`| ${COLUMNS.map(([key]) => escape(row[key])).join(' | ')} |`);
  return out.join('\n');
}

/** Plain data for `--json`. */
export function jsonReport(results: ScenarioResult[], meta: Record<string, unknown>): unknown {
  return {
    ...meta,
    units: { throughput: 'MB/s (1 MB = 10^6 bytes)', finalize: 'seconds', peakRss: 'bytes (VmHWM)' },
    scenarios: results.map((r) => ({
      id: r.scenario.id,
      db: r.db,
      label: r.label,
      fileSize: r.scenario.fileSize,
      chunkSize: r.scenario.chunkSize,
      skipped: r.skipped,
      loadAverage: r.loadAverage,
      contestants: r.contestants,
      comparisons: r.scenario.comparisons,
      dbActivity: r.dbActivity,
      dbServerCpu: r.dbServerCpu,
    })),
  };
}
