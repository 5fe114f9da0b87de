/** The results table (plain text or Markdown), the targets, and the JSON output. */
import { MB } from './results';
import type { RunFigures, ScenarioResult, ServerFigures } from './results';

interface MetricRow {
  scenario: string;
  metric: string;
  app: string;
  baseline: string;
  ratio: string;
  target: string;
}

interface Target {
  text: string;
  met: (ratio: number, app: number) => boolean;
}

const COLUMNS: Array<[keyof MetricRow, string]> = [
  ['scenario', 'scenario'],
  ['metric', 'metric'],
  ['app', 'app'],
  ['baseline', 'baseline'],
  ['ratio', 'ratio'],
  ['target', 'target (issue 4)'],
];

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function ratioText(app: number, baseline: number): string {
  return Number.isFinite(app) && Number.isFinite(baseline) && baseline > 0 ? `${(app / baseline).toFixed(2)}×` : '—';
}

/** The target for one figure of one scenario, if it sets one. */
function targetFor(scenarioId: string, metric: keyof RunFigures | 'peakRss'): Target | null {
  if ((scenarioId === 'a' || scenarioId === 'b') && metric === 'endToEndMBps') {
    return { text: '≥ 0.90×', met: (r) => r >= 0.9 };
  }
  if ((scenarioId === 'a' || scenarioId === 'b' || scenarioId === 'c') && metric === 'finalizeSeconds') {
    return { text: '≤ 1.10×', met: (r) => r <= 1.1 };
  }
  if (scenarioId === 'c' && metric === 'peakRss') return { text: '≤ 150 MB', met: (_r, app) => app <= 150 };
  if (scenarioId === 'd' && metric === 'chunksPerSecond') return { text: '≥ 0.50×', met: (r) => r >= 0.5 };
  return null;
}

function targetText(target: Target | null, app: number, baseline: number): string {
  if (target === null) return '';
  if (!Number.isFinite(app) || !Number.isFinite(baseline) || baseline <= 0) return target.text;
  return `${target.text} ${target.met(app / baseline, app) ? 'met' : 'MISSED'}`;
}

const METRICS: Array<{ key: keyof RunFigures; name: string; digits: number; onlyChunkRate?: boolean }> = [
  { key: 'transferMBps', name: 'transfer MB/s', digits: 1 },
  { key: 'endToEndMBps', name: 'end-to-end MB/s', digits: 1 },
  { key: 'finalizeSeconds', name: 'finalize s', digits: 3 },
  { key: 'chunksPerSecond', name: 'chunks/s', digits: 0, onlyChunkRate: true },
];

function valueOf(figures: ServerFigures | null, key: keyof RunFigures): number {
  return figures === null ? Number.NaN : figures.median[key];
}

function rssOf(figures: ServerFigures | null): number {
  return figures === null || figures.peakRssBytes === null ? Number.NaN : figures.peakRssBytes / MB;
}

export function tableRows(results: ScenarioResult[]): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const result of results) {
    const id = result.scenario.id;
    if (result.skipped !== null) {
      rows.push({ scenario: result.label, metric: `skipped: ${result.skipped}`, app: '', baseline: '', ratio: '', target: '' });
      continue;
    }
    let first = true;
    const push = (metric: string, app: number, baseline: number, digits: number, target: Target | null): void => {
      rows.push({
        scenario: first ? result.label : '',
        metric,
        app: fmt(app, digits),
        baseline: fmt(baseline, digits),
        ratio: ratioText(app, baseline),
        target: targetText(target, app, baseline),
      });
      first = false;
    };
    for (const metric of METRICS) {
      if (metric.onlyChunkRate === true && !result.scenario.reportChunkRate) continue;
      if (metric.key === 'finalizeSeconds' && result.scenario.reportChunkRate) continue;
      push(metric.name, valueOf(result.app, metric.key), valueOf(result.baseline, metric.key), metric.digits, targetFor(id, metric.key));
    }
    push('peak RSS MB', rssOf(result.app), rssOf(result.baseline), 0, targetFor(id, 'peakRss'));
  }
  return rows;
}

export function renderText(rows: MetricRow[]): string {
  const widths = COLUMNS.map(([key, title]) => Math.max(title.length, ...rows.map((r) => r[key].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(COLUMNS.map(([, title]) => title)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) out.push(line(COLUMNS.map(([key]) => row[key])));
  return out.join('\n');
}

export function renderMarkdown(rows: MetricRow[]): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [
    `| ${COLUMNS.map(([, title]) => title).join(' | ')} |`,
    `| ${COLUMNS.map(([key]) => (key === 'app' || key === 'baseline' || key === 'ratio' ? '---:' : '---')).join(' | ')} |`,
  ];
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
      parallel: r.scenario.parallel,
      body: r.scenario.body,
      skipped: r.skipped,
      app: r.app,
      baseline: r.baseline,
      dbActivity: r.dbActivity,
    })),
  };
}
