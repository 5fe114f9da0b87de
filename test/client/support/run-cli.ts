/**
 * Runs the `frago-upload` CLI as a child process and collects its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './example-app';

/** Path of the CLI launcher (the package's bin). */
export const CLI = join(REPO_ROOT, 'libs', 'client', 'bin', 'frago-upload.js');

/** How a run ended. */
export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started run. */
export interface CliRun {
  child: ChildProcess;
  done: Promise<CliOutcome>;
}

/** Set of runs still alive, so `killAll()` can clean up in an `after` hook. */
const alive = new Set<ChildProcess>();

/** Starts `frago-upload ...args` (stdout/stderr are pipes, so not a TTY). */
export function runCli(args: string[]): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  alive.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<CliOutcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      alive.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Kills every run still alive. */
export function killAll(): void {
  for (const child of alive) child.kill('SIGKILL');
  alive.clear();
}
