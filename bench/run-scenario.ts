/**
 * One table row: a fresh process of every server the scenario's contestants need (the
 * app, the baseline, @tus/server), a warm-up upload per contestant, then measured runs in
 * rotating order, every assembled file checked, then the peaks read and the processes stopped.
 */
import { spawnSync } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchOptions, DbKind } from './args';
import { createDatabase } from './databases';
import { findProfile, renderProfile, summarizeProfile } from './profile';
import { loadavg } from 'node:os';
import { figuresOf, medianFigures, rowLabel } from './results';
import type { ContestantResult, RunFigures, ScenarioResult, ServerFigures } from './results';
import { formatBytes } from 'nestjs-frago-client';
import { isChunkRateScenario, warmupOf } from './scenario';
import type { Contestant, Scenario, ServerKind } from './scenario';
import { serverCpuSeconds } from './server-cpu';
import { REPO_ROOT, startApp, startBaseline, startTusServer } from './servers';
import type { Target } from './servers';
import { hashFile } from './test-file';
import type { TestFile } from './test-file';
import { upload } from './uploader';
import type { UploadTimings } from './uploader';
import { tusUpload } from './tus-uploader';

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

interface Geometry {
  chunkSize: number;
  contestant: Contestant;
}

function sendFile(target: Target, geometry: Geometry, file: TestFile, filename: string, signal: AbortSignal): Promise<UploadTimings> {
  const { contestant, chunkSize } = geometry;
  if (contestant.body === 'tus') {
    if (target.tusEndpoint === null) throw new Error(`${target.name} does not speak tus`);
    return tusUpload({ endpoint: target.tusEndpoint, filePath: file.path, fileSize: file.size, filename, chunkSize, parallel: contestant.parallel }, signal);
  }
  return upload(
    {
      apiBase: target.apiBase,
      filePath: file.path,
      fileSize: file.size,
      md5: file.md5,
      filename,
      chunkSize,
      parallel: contestant.parallel,
      body: contestant.body,
    },
    signal,
  );
}

async function uploadOnce(target: Target, geometry: Geometry, file: TestFile, filename: string, ctx: RowContext): Promise<Measured> {
  let timings: UploadTimings;
  const limitMs = uploadTimeoutMs(file.size);
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort();
  }, limitMs);
  try {
    timings = await sendFile(target, geometry, file, filename, deadline.signal);
  } catch (err) {
    const cause = deadline.signal.aborted ? new Error(`upload of ${formatBytes(file.size)} took longer than ${Math.round(limitMs / 1000)} s`) : err;
    throw describeFailure(target, cause);
  } finally {
    clearTimeout(timer);
  }
  // The 201 after the checksum is the server's own check (frago); confirm the published file too.
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

function runLine(contestant: Contestant, run: number, runs: number, scenario: Scenario, f: RunFigures): string {
  const rate = isChunkRateScenario(scenario) ? `, ${f.chunksPerSecond.toFixed(0)} chunks/s` : '';
  // tus ×1 has no finalize request; tus ×N's is the final upload's creation (the concatenation).
  const finalize =
    contestant.body === 'tus' && contestant.parallel === 1
      ? ''
      : `, ${contestant.body === 'tus' ? 'concatenation' : 'finalize'} ${f.finalizeSeconds.toFixed(3)} s`;
  return (
    `  run ${run}/${runs} ${contestant.label.padEnd(22)} transfer ${f.transferMBps.toFixed(1)} MB/s, ` +
    `end-to-end ${f.endToEndMBps.toFixed(1)} MB/s${finalize}${rate}`
  );
}

function serverFigures(target: Target, contestant: Contestant, measured: Measured[]): ServerFigures {
  const runs = measured.map((m) => m.figures);
  return {
    name: `${contestant.label} (${target.name})`,
    runs,
    median: medianFigures(runs),
    peakRssBytes: target.process.peakRssBytes(),
    leftoverChunkBytes: measured.reduce((sum, m) => sum + m.leftoverChunkBytes, 0),
  };
}

/** Why a row cannot run with these options, or null. */
export function rowSkipReason(scenario: Scenario, ctx: RowContext): string | null {
  if (ctx.options.onlyBaseline && scenario.contestants.some((c) => c.server === 'app' && c.body === 'tus')) {
    return '--only-baseline: the baseline does not speak tus';
  }
  return null;
}

export async function runRow(scenario: Scenario, db: DbKind, ctx: RowContext): Promise<ScenarioResult> {
  const { options } = ctx;
  const label = rowLabel(scenario, db);
  ctx.log(`${label}: starting servers`);
  const file = ctx.testFile(scenario.fileSize);
  const warmup = warmupOf(scenario, options.quick);
  const warmFile = options.warmup ? ctx.testFile(warmup.fileSize) : null;
  const rowDir = join(ctx.tmpDir, `row-${scenario.id}-${db}`);
  const needs = new Set<ServerKind>(scenario.contestants.map((c) => c.server));
  // With --only-baseline no app runs, so no database is needed.
  const database = options.onlyBaseline || !needs.has('app') ? null : await createDatabase(db, ctx.tmpDir);
  const nofsyncDatabase = options.onlyBaseline || !needs.has('app-nofsync') ? null : await createDatabase(db, ctx.tmpDir);
  const started: Target[] = [];
  let appPid: number | null = null;
  // The database's activity is the app's own (the app with fsync off has another database).
  let mainApp: Target | null = null;
  // The database server's CPU during the app's measured runs (not its warm-up), with their chunks.
  let serverCpu: { seconds: number; chunks: number } | null = null;
  let appUploads = 0;
  let appChunks = 0;
  const count = (target: Target, m: Measured): void => {
    if (target !== mainApp) return;
    appUploads++;
    appChunks += m.chunks;
  };
  try {
    const servers = new Map<ServerKind, Target>();
    const start = async (kind: ServerKind, make: () => Promise<Target>): Promise<void> => {
      if (!needs.has(kind)) return;
      const target = await make();
      started.push(target);
      servers.set(kind, target);
    };
    await start('baseline', () => startBaseline('baseline', join(rowDir, 'baseline'), options.baselineFsync));
    await start('baseline-fsync', () => startBaseline('baseline+fsync', join(rowDir, 'baseline-fsync'), true));
    await start('tus-server', () => startTusServer('@tus/server', join(rowDir, 'tus-server')));
    await start('app', () =>
      options.onlyBaseline
        ? startBaseline('baseline #2 (as app)', join(rowDir, 'baseline-2'), options.baselineFsync)
        : startApp({ name: `app (${db})`, dataDir: join(rowDir, 'data'), databaseUrl: database?.url ?? '', cpuProfDir: options.cpuProfDir }),
    );
    await start('app-nofsync', () =>
      startApp({
        name: `app fsync off (${db})`,
        dataDir: join(rowDir, 'data-nofsync'),
        databaseUrl: nofsyncDatabase?.url ?? '',
        cpuProfDir: null,
        env: { FRAGO_FSYNC: 'false' },
      }),
    );
    const app = servers.get('app');
    if (app?.role === 'app') {
      appPid = app.process.pid;
      mainApp = app;
    }
    const targetOf = (c: Contestant): Target => {
      const target = servers.get(c.server);
      if (target === undefined) throw new Error(`${label}: no ${c.server} server started`);
      return target;
    };

    if (warmFile !== null) {
      for (const contestant of scenario.contestants) {
        const target = targetOf(contestant);
        for (let i = 1; i <= warmup.uploads; i++) {
          const name = `bench-warmup-${scenario.id}-${i}-${contestant.key}.bin`;
          count(target, await uploadOnce(target, { contestant, chunkSize: warmup.chunkSize }, warmFile, name, ctx));
        }
      }
      ctx.log(`  warmed up every contestant (${warmup.uploads} × ${formatBytes(warmFile.size)})`);
    }
    const measured = new Map<string, Measured[]>(scenario.contestants.map((c) => [c.key, []]));
    for (let run = 1; run <= options.runs; run++) {
      // Rotate which contestant goes first, so slow drift (page cache, writeback) hits all alike.
      const n = scenario.contestants.length;
      const order = scenario.contestants.map((_c, i) => scenario.contestants[(i + run - 1) % n]);
      for (const contestant of order) {
        const target = targetOf(contestant);
        const filename = `bench-${scenario.id}-${db}-run${run}-${contestant.key}.bin`;
        const cpuBefore = target === mainApp ? serverCpuSeconds(db) : null;
        const m = await uploadOnce(target, { contestant, chunkSize: scenario.chunkSize }, file, filename, ctx);
        const cpuAfter = cpuBefore === null ? null : serverCpuSeconds(db);
        if (cpuBefore !== null && cpuAfter !== null) {
          serverCpu ??= { seconds: 0, chunks: 0 };
          serverCpu.seconds += cpuAfter - cpuBefore;
          serverCpu.chunks += m.chunks;
        }
        count(target, m);
        measured.get(contestant.key)?.push(m);
        ctx.log(runLine(contestant, run, options.runs, scenario, m.figures));
      }
    }
    const contestants: ContestantResult[] = scenario.contestants.map((contestant) => ({
      contestant,
      figures: serverFigures(targetOf(contestant), contestant, measured.get(contestant.key) ?? []),
    }));
    const result: ScenarioResult = { scenario, db, label, contestants, loadAverage: loadavg()[0], skipped: null, dbActivity: null, dbServerCpu: serverCpu };
    for (const target of [...started].reverse()) await target.process.stop();
    const activity = await database?.activity().catch(() => null);
    if (activity) result.dbActivity = { ...activity, chunkRequests: appChunks, uploads: appUploads };
    return result;
  } finally {
    for (const target of started.reverse()) await target.process.stop();
    for (const each of [database, nofsyncDatabase]) {
      await each?.drop().catch((err: unknown) => {
        ctx.log(`warning: could not drop the ${db} database: ${String(err)}`);
      });
    }
    await rm(rowDir, { recursive: true, force: true });
    if (options.cpuProfDir !== null && appPid !== null) printProfile(options.cpuProfDir, appPid, label, ctx, appChunks);
  }
}

function printProfile(dir: string, pid: number, label: string, ctx: RowContext, requests: number): void {
  const file = findProfile(dir, pid);
  if (file === null) {
    ctx.log(`no CPU profile of the app (pid ${pid}) in ${dir}: did it exit normally?`);
    return;
  }
  try {
    process.stdout.write(`\n${renderProfile(`CPU profile of the app, ${label}`, summarizeProfile(file, REPO_ROOT), requests)}\n`);
  } catch (err) {
    ctx.log(`could not read the CPU profile ${file}: ${String(err)}`);
  }
}
