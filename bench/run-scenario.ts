/**
 * One table row: a fresh app process and a fresh baseline process, a warm-up upload to
 * each, then alternating measured runs, every assembled file checked, then both peaks
 * read and both processes stopped.
 */
import { spawnSync } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchOptions, DbKind } from './args';
import { createDatabase } from './databases';
import { findProfile, renderProfile, summarizeProfile } from './profile';
import { figuresOf, medianFigures, rowLabel } from './results';
import type { RunFigures, ScenarioResult, ServerFigures } from './results';
import { formatBytes } from 'nestjs-frago-client';
import { warmupOf } from './scenarios';
import type { Scenario } from './scenarios';
import { REPO_ROOT, startApp, startBaseline } from './servers';
import type { Target } from './servers';
import { hashFile } from './test-file';
import type { TestFile } from './test-file';
import { upload } from './uploader';
import type { UploadTimings } from './uploader';

export interface RowContext {
  options: BenchOptions;
  tmpDir: string;
  /** Test files by size, generated once. */
  testFile(size: number): TestFile;
  log(message: string): void;
}

interface Measured {
  figures: RunFigures;
  leftoverChunkBytes: number;
  chunks: number;
}

/** Generous bound for one upload: a minute plus 2 MB/s. */
function uploadTimeoutMs(size: number): number {
  return 60_000 + size / 2000;
}

function describeFailure(target: Target, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const state = target.process.running ? 'still running' : 'no longer running';
  return new Error(`${target.name} (${state}): ${message}\n  last server output:\n${target.process.outputTail()}`);
}

async function uploadOnce(target: Target, scenario: Scenario, file: TestFile, filename: string, ctx: RowContext): Promise<Measured> {
  let timings: UploadTimings;
  const limitMs = uploadTimeoutMs(file.size);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), limitMs);
  try {
    timings = await upload(
      {
        apiBase: target.apiBase,
        filePath: file.path,
        fileSize: file.size,
        md5: file.md5,
        filename,
        chunkSize: scenario.chunkSize,
        parallel: scenario.parallel,
        body: scenario.body,
      },
      deadline.signal,
    );
  } catch (err) {
    const cause = deadline.signal.aborted ? new Error(`upload of ${formatBytes(file.size)} took longer than ${Math.round(limitMs / 1000)} s`) : err;
    throw describeFailure(target, cause);
  } finally {
    clearTimeout(timer);
  }
  // The 201 after the checksum is the server's own check; confirm the published file too.
  const assembled = await target.assembledFile(filename, timings.uploadId);
  const size = (await stat(assembled)).size;
  if (size !== file.size) throw new Error(`${target.name}: assembled file ${assembled} has ${size} bytes, expected ${file.size}`);
  if (ctx.options.verifyHash) {
    const { digest } = await hashFile(assembled, 'md5');
    if (digest !== file.md5) throw new Error(`${target.name}: assembled file ${assembled} has md5 ${digest}, expected ${file.md5}`);
  }
  const leftoverChunkBytes = await target.clearFiles();
  // Start every run with no dirty pages left over from the previous one.
  spawnSync('sync', { stdio: 'ignore' });
  return { figures: figuresOf(file.size, timings), leftoverChunkBytes, chunks: timings.chunks };
}

function runLine(target: Target, run: number, runs: number, scenario: Scenario, f: RunFigures): string {
  const rate = scenario.reportChunkRate ? `, ${f.chunksPerSecond.toFixed(0)} chunks/s` : '';
  return (
    `  run ${run}/${runs} ${target.name.padEnd(20)} transfer ${f.transferMBps.toFixed(1)} MB/s, ` +
    `end-to-end ${f.endToEndMBps.toFixed(1)} MB/s, finalize ${f.finalizeSeconds.toFixed(3)} s${rate}`
  );
}

function serverFigures(target: Target, measured: Measured[]): ServerFigures {
  const runs = measured.map((m) => m.figures);
  return {
    name: target.name,
    runs,
    median: medianFigures(runs),
    peakRssBytes: target.process.peakRssBytes(),
    leftoverChunkBytes: measured.reduce((sum, m) => sum + m.leftoverChunkBytes, 0),
  };
}

export async function runRow(scenario: Scenario, db: DbKind, ctx: RowContext): Promise<ScenarioResult> {
  const { options } = ctx;
  const label = rowLabel(scenario, db);
  ctx.log(`${label}: starting servers`);
  const file = ctx.testFile(scenario.fileSize);
  const warmup = warmupOf(scenario);
  const warmFile = options.warmup ? ctx.testFile(warmup.scenario.fileSize) : null;
  const rowDir = join(ctx.tmpDir, `row-${scenario.id}-${db}`);
  // With --only-baseline no app runs, so no database is needed.
  const database = options.onlyBaseline ? null : await createDatabase(db, ctx.tmpDir);
  const started: Target[] = [];
  let appPid: number | null = null;
  let appUploads = 0;
  let appChunks = 0;
  const count = (target: Target, m: Measured): void => {
    if (target.role !== 'app') return;
    appUploads++;
    appChunks += m.chunks;
  };
  try {
    const baseline = await startBaseline('baseline', join(rowDir, 'baseline'), options.baselineFsync);
    started.push(baseline);
    const app = options.onlyBaseline
      ? await startBaseline('baseline #2 (as app)', join(rowDir, 'baseline-2'), options.baselineFsync)
      : await startApp({ name: `app (${db})`, dataDir: join(rowDir, 'data'), databaseUrl: database?.url ?? '', cpuProfDir: options.cpuProfDir });
    started.push(app);
    if (app.role === 'app') appPid = app.process.pid;

    if (warmFile !== null) {
      for (const target of [baseline, app]) {
        for (let i = 1; i <= warmup.uploads; i++) {
          count(target, await uploadOnce(target, warmup.scenario, warmFile, `bench-warmup-${scenario.id}-${i}-${target.role}.bin`, ctx));
        }
      }
      ctx.log(`  warmed up both servers (${warmup.uploads} × ${formatBytes(warmFile.size)})`);
    }
    const measured = new Map<Target, Measured[]>([
      [baseline, []],
      [app, []],
    ]);
    for (let run = 1; run <= options.runs; run++) {
      // Alternate which server goes first, so slow drift (page cache, writeback) hits both alike.
      const order = run % 2 === 1 ? [baseline, app] : [app, baseline];
      for (const target of order) {
        const filename = `bench-${scenario.id}-${db}-run${run}-${target.role}.bin`;
        const m = await uploadOnce(target, scenario, file, filename, ctx);
        count(target, m);
        measured.get(target)?.push(m);
        ctx.log(runLine(target, run, options.runs, scenario, m.figures));
      }
    }
    const result: ScenarioResult = {
      scenario,
      db,
      label,
      baseline: serverFigures(baseline, measured.get(baseline) ?? []),
      app: serverFigures(app, measured.get(app) ?? []),
      skipped: null,
      dbActivity: null,
    };
    for (const target of [...started].reverse()) await target.process.stop();
    const activity = await database?.activity().catch(() => null);
    if (activity) result.dbActivity = { ...activity, chunkRequests: appChunks, uploads: appUploads };
    return result;
  } finally {
    for (const target of started.reverse()) await target.process.stop();
    await database?.drop().catch((err: unknown) => ctx.log(`warning: could not drop the ${db} database: ${String(err)}`));
    await rm(rowDir, { recursive: true, force: true });
    if (options.cpuProfDir !== null && appPid !== null) printProfile(options.cpuProfDir, appPid, label, ctx);
  }
}

function printProfile(dir: string, pid: number, label: string, ctx: RowContext): void {
  const file = findProfile(dir, pid);
  if (file === null) {
    ctx.log(`no CPU profile of the app (pid ${pid}) in ${dir}: did it exit normally?`);
    return;
  }
  try {
    process.stdout.write(`\n${renderProfile(`CPU profile of the app, ${label}`, summarizeProfile(file, REPO_ROOT))}\n`);
  } catch (err) {
    ctx.log(`could not read the CPU profile ${file}: ${String(err)}`);
  }
}
