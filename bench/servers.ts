/** The servers under test: the built example app, the baseline and @tus/server. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { freePort, ManagedProcess } from './managed-process';
import type { ServerKind } from './scenario';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const APP_MAIN = join(REPO_ROOT, 'apps', 'example', 'dist', 'main.js');
const BASELINE_MAIN = join(__dirname, 'baseline-server.js');
const TUS_SERVER_MAIN = join(__dirname, 'tus-server.mjs');
const EXIT_ON_SIGNAL = join(__dirname, 'exit-on-signal.js');

const APP_READY_TIMEOUT_MS = 90_000;
const BASELINE_READY_TIMEOUT_MS = 15_000;
/** Chunks of scenario (c) are 64 MiB: allow well above that. */
const APP_MAX_CHUNK_SIZE = 512 * 1024 * 1024;

export interface Target {
  role: ServerKind;
  /** Row label, e.g. "app (sqlite)". */
  name: string;
  /** frago API root (e.g. http://127.0.0.1:3000/api); empty for @tus/server. */
  apiBase: string;
  /** tus creation URL (the collection), when the server speaks tus. */
  tusEndpoint: string | null;
  process: ManagedProcess;
  /** Path of the assembled file of a finished upload. */
  assembledFile(filename: string, uploadId: string): Promise<string>;
  /** Deletes stored files between runs; returns the bytes left in the chunk area (0 when the server cleaned up). */
  clearFiles(): Promise<number>;
  /** The CPU profile the process wrote on exit, when started with one. */
  cpuProfileDir: string | null;
}

interface FileEntry {
  path: string;
  size: number;
}

async function listFiles(dir: string, depth = 0): Promise<FileEntry[]> {
  if (depth > 8 || !existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  const out: FileEntry[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path, depth + 1)));
    else if (entry.isFile()) out.push({ path, size: (await stat(path)).size });
  }
  return out;
}

/** Removes everything inside `dir`, keeping `dir` itself. */
async function emptyDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/**
 * Node flags of the app process: none. A library user runs `node main.js`, so the memory
 * target holds without flags (the example's `npm start` adds --max-semi-space-size=2 on top).
 * BENCH_APP_NODE_FLAGS adds some, e.g. to compare.
 */
const APP_NODE_FLAGS = (process.env.BENCH_APP_NODE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0);

export async function startBaseline(name: string, dir: string, fsync = false): Promise<Target> {
  await mkdir(dir, { recursive: true });
  const args = [BASELINE_MAIN, '--port', '0', '--dir', dir, ...(fsync ? ['--fsync'] : [])];
  const proc = new ManagedProcess(name, process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const line = await proc.waitForLine(/listening on (http:\/\/\S+\/api)/, BASELINE_READY_TIMEOUT_MS);
  const match = /listening on (http:\/\/\S+\/api)/.exec(line);
  if (match === null) throw new Error(`${name}: unexpected ready line ${line}`);
  return {
    role: 'baseline',
    name,
    apiBase: match[1],
    tusEndpoint: null,
    process: proc,
    cpuProfileDir: null,
    assembledFile: (_filename, uploadId) => Promise.resolve(join(dir, `${uploadId}.bin`)),
    clearFiles: async () => {
      await emptyDir(dir);
      return 0;
    },
  };
}

export interface AppStartOptions {
  name: string;
  dataDir: string;
  databaseUrl: string;
  cpuProfDir: string | null;
  /** More environment for the app (e.g. `FRAGO_STORAGE=s3` and its settings). */
  env?: Record<string, string>;
}

export async function startApp(options: AppStartOptions): Promise<Target> {
  if (!existsSync(APP_MAIN)) throw new Error(`the example app is not built: ${APP_MAIN} is missing (npm run build)`);
  await mkdir(options.dataDir, { recursive: true });
  const port = await freePort();
  const nodeArgs: string[] = [...APP_NODE_FLAGS];
  if (options.cpuProfDir !== null) {
    await mkdir(options.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, '--require', EXIT_ON_SIGNAL);
  }
  const proc = new ManagedProcess(options.name, process.execPath, [...nodeArgs, APP_MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      FRAGO_DATA_DIR: options.dataDir,
      FRAGO_MAX_CHUNK_SIZE: String(APP_MAX_CHUNK_SIZE),
      FRAGO_CLEANUP_INTERVAL_MS: '0',
      FRAGO_TUS_PATH: 'files',
      ...options.env,
    },
  });
  await proc.waitForLine(/listening/i, APP_READY_TIMEOUT_MS);
  const assembledDir = join(options.dataDir, 'assembled_uploads');
  const chunkDir = join(options.dataDir, 'chunked_uploads');
  return {
    role: 'app',
    name: options.name,
    apiBase: `http://127.0.0.1:${port}/api`,
    // The example app's tus endpoint (FRAGO_TUS_PATH, default `files`).
    tusEndpoint: `http://127.0.0.1:${port}/api/files/`,
    process: proc,
    cpuProfileDir: options.cpuProfDir,
    assembledFile: async (filename, uploadId) => {
      const stem = basename(filename, extname(filename));
      const files = await listFiles(assembledDir);
      const matches = files.filter((f) => basename(f.path).includes(stem) || basename(f.path).includes(uploadId));
      if (matches.length === 1) return matches[0].path;
      const listing = files.map((f) => `${f.path} (${f.size} B)`).join(', ') || 'nothing';
      throw new Error(`expected one assembled file for ${filename} under ${assembledDir}, found ${matches.length}; the folder holds: ${listing}`);
    },
    clearFiles: async () => {
      const leftover = (await listFiles(chunkDir)).reduce((sum, f) => sum + f.size, 0);
      await emptyDir(assembledDir);
      await emptyDir(chunkDir);
      return leftover;
    },
  };
}

/** @tus/server with @tus/file-store in `dir` (tus-server.mts), the tus competitor. */
export async function startTusServer(name: string, dir: string): Promise<Target> {
  await mkdir(dir, { recursive: true });
  const proc = new ManagedProcess(name, process.execPath, [TUS_SERVER_MAIN, '--port', '0', '--dir', dir], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const pattern = /listening on (http:\/\/\S+\/files\/)/;
  const line = await proc.waitForLine(pattern, BASELINE_READY_TIMEOUT_MS);
  const match = pattern.exec(line);
  if (match === null) throw new Error(`${name}: unexpected ready line ${line}`);
  return {
    role: 'tus-server',
    name,
    apiBase: '',
    tusEndpoint: match[1],
    process: proc,
    cpuProfileDir: null,
    // @tus/file-store keeps an upload's bytes in a file named by its id (beside `<id>.json`).
    assembledFile: (_filename, uploadId) => Promise.resolve(join(dir, uploadId)),
    clearFiles: async () => {
      await emptyDir(dir);
      return 0;
    },
  };
}
