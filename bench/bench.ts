/**
 * `npm run bench`: uploads the same generated file to the built example app and, in the
 * same row, to its comparators (the baseline server, @tus/server), rotating runs, and
 * prints each figure with its ratio and the issues' target. See `--help` and bench/README.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, USAGE } from './args';
import type { BenchOptions, DbKind } from './args';
import { installExitHandlers, onExitSync } from './children';
import { unreachableReason } from './databases';
import { jsonReport, renderMarkdown, renderText, tableRows, targetSummary } from './report';
import { rowLabel } from './results';
import type { ScenarioResult } from './results';
import { rowSkipReason, runRow } from './run-scenario';
import type { RowContext } from './run-scenario';
import { formatBytes } from 'nestjs-frago-client';
import { selectScenarios } from './scenarios';
import type { Scenario } from './scenario';
import { generateTestFile } from './test-file';
import { runS3Bench, s3BenchConfig } from './s3-bench';
import type { TestFile } from './test-file';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

function machineLine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

/** The rows to measure: every scenario on --db; with the default SQLite, a scenario naming its databases (d) runs on each. */
function plannedRows(scenarios: Scenario[], db: DbKind): Array<{ scenario: Scenario; db: DbKind }> {
  const rows: Array<{ scenario: Scenario; db: DbKind }> = [];
  for (const scenario of scenarios) {
    const dbs = scenario.dbs !== null && db === 'sqlite' ? scenario.dbs : [db];
    for (const each of dbs) rows.push({ scenario, db: each });
  }
  return rows;
}

async function run(options: BenchOptions): Promise<void> {
  const scenarios = selectScenarios(options.scenarios, options.quick, options.ablate);
  const tmpDir = mkdtempSync(join(resolve(options.tmpParent ?? tmpdir()), 'frago-bench-'));
  onExitSync(() => rmSync(tmpDir, { recursive: true, force: true }));

  const files = new Map<number, TestFile>();
  const ctx: RowContext = {
    options,
    tmpDir,
    log,
    testFile(size: number): TestFile {
      const known = files.get(size);
      if (known !== undefined) return known;
      const started = Date.now();
      const file = generateTestFile(join(tmpDir, `test-${size}.bin`), size);
      log(`generated ${formatBytes(size)} test file in ${((Date.now() - started) / 1000).toFixed(1)} s (md5 ${file.md5})`);
      files.set(size, file);
      return file;
    },
  };

  const machine = machineLine();
  const loadBefore = loadLine();
  log(`frago bench${options.quick ? ' --quick' : ''}: ${machine}; load average ${loadBefore} (1/5/15 min)`);
  if (loadavg()[0] > 0.5 * cpus().length) {
    log('warning: the machine is busy; other processes compete with the servers for CPU and disk, so figures will be noisy');
  }
  if (options.onlyBaseline) log('--only-baseline: a second baseline process stands in for the example app');
  const unreachable = new Map<DbKind, string | null>();
  const results: ScenarioResult[] = [];
  // BENCH_S3_ONLY=1 measures only the S3 rows.
  const planned = process.env.BENCH_S3_ONLY === '1' ? [] : plannedRows(scenarios, options.db);
  const skip = (scenario: Scenario, db: DbKind, why: string): void => {
    results.push({ scenario, db, label: rowLabel(scenario, db), contestants: [], loadAverage: null, skipped: why, dbActivity: null, dbServerCpu: null });
  };
  for (const { scenario, db } of planned) {
    const reason = rowSkipReason(scenario, ctx);
    if (reason !== null) {
      log(`${rowLabel(scenario, db)}: skipped (${reason})`);
      skip(scenario, db, reason);
      continue;
    }
    if (db !== 'sqlite' && !options.onlyBaseline) {
      if (!unreachable.has(db)) unreachable.set(db, await unreachableReason(db));
      const reason = unreachable.get(db) ?? null;
      if (reason !== null) {
        if (db === options.db) throw new Error(`--db ${db}: the database server is unreachable: ${reason}`);
        log(`${rowLabel(scenario, db)}: skipped, ${db} unreachable (${reason})`);
        skip(scenario, db, `${db} unreachable`);
        continue;
      }
    }
    results.push(await runRow(scenario, db, ctx));
  }

  const s3Only = process.env.BENCH_S3_ONLY === '1';
  if (!s3Only) printDiskReport(results, options, machine, loadBefore);
  const s3 = s3BenchConfig();
  if (s3 === null) {
    log("S3 rows skipped: set BENCH_S3_ENDPOINT, BENCH_S3_ACCESS_KEY and BENCH_S3_SECRET_KEY; scripts/ceph.sh start prints a Ceph RGW's");
    if (s3Only) throw new Error('BENCH_S3_ONLY=1 but no S3 engine is configured (BENCH_S3_ENDPOINT)');
  } else {
    console.log('');
    if (s3Only) console.log(`Machine: ${machine}; load average ${loadBefore} at the start (1/5/15 min)`);
    console.log(
      await runS3Bench(s3, { tmpDir, runs: options.runs, quick: options.quick, cpuProfDir: options.cpuProfDir, testFile: (size) => ctx.testFile(size), log }),
    );
  }
  if (options.jsonFile !== null) {
    const report = jsonReport(results, { machine, loadAverage: { start: loadBefore, end: loadLine() }, date: new Date().toISOString(), options });
    writeFileSync(options.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    log(`results written to ${options.jsonFile}`);
  }
}

/** The disk rows' table, target summary and notes. */
function printDiskReport(results: ScenarioResult[], options: BenchOptions, machine: string, loadBefore: string): void {
  const rows = tableRows(results);
  const runsNote = `median of ${options.runs} run${options.runs === 1 ? '' : 's'} per contestant; MB = 10^6 bytes; ratio = app / against; load = 1-min load average at the row's end`;
  console.log('');
  console.log(`Machine: ${machine}; load average ${loadBefore} at the start, ${loadLine()} at the end (1/5/15 min)`);
  console.log(
    `Benchmark: ${options.quick ? 'quick sizes, ' : ''}${runsNote}${options.onlyBaseline ? '; app = a second baseline process (--only-baseline)' : ''}${options.baselineFsync ? '; the baseline fdatasyncs each chunk (--baseline-fsync)' : ''}`,
  );
  console.log('');
  console.log(options.markdown ? renderMarkdown(rows) : renderText(rows));
  console.log(targetSummary(results));
  for (const r of results) {
    const leftover = r.contestants.reduce(
      (sum, c) => sum + (c.contestant.server === 'app' || c.contestant.server === 'app-nofsync' ? c.figures.leftoverChunkBytes : 0),
      0,
    );
    if (leftover > 0) console.log(`note: ${r.label}: the app left ${leftover} bytes in its chunk folder after completed uploads`);
    if (r.skipped !== null) console.log(`note: ${r.label}: skipped (${r.skipped})`);
    const a = r.dbActivity;
    if (a !== null && a.chunkRequests > 0) {
      console.log(
        `note: ${r.label}: the app's database committed ${a.commits} transactions (${a.rollbacks} rolled back) for ` +
          `${a.uploads} uploads of ${a.chunkRequests} chunks in all: ${(a.commits / a.chunkRequests).toFixed(2)} per chunk; ` +
          `rows inserted/updated/deleted ${a.rowsInserted}/${a.rowsUpdated}/${a.rowsDeleted}`,
      );
    }
    const cpu = r.dbServerCpu;
    if (cpu !== null && cpu.chunks > 0) {
      console.log(
        `note: ${r.label}: the database server's processes used ${cpu.seconds.toFixed(2)} s of CPU during the app's ` +
          `measured runs (${cpu.chunks} chunks): ${((1e6 * cpu.seconds) / cpu.chunks).toFixed(0)} µs per chunk, on the same cores`,
      );
    }
  }
}

function main(): void {
  installExitHandlers();
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  run(options).then(
    () => process.exit(0),
    (err: unknown) => {
      log(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

main();
