/**
 * How the packed-package test runs its steps: shell commands in their own process group,
 * each killed (with everything it started) past its time, in an environment without what
 * `npm test` adds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/**
 * How long one step (an `npm install`, a build, the upload) may take before its process group is
 * killed: generous, as installs on a loaded 2-core CI machine take many minutes; minutes in
 * FRAGO_PACK_STEP_TIMEOUT_MIN (default 45).
 */
export const STEP_TIMEOUT_MIN = Number(process.env.FRAGO_PACK_STEP_TIMEOUT_MIN ?? '') || 45;
export const STEP_TIMEOUT = STEP_TIMEOUT_MIN * 60_000;

export interface Run {
  code: number | null;
  output: string;
}

/**
 * This process's environment without what `npm test` adds (npm_config_*, npm_package_*, …), which
 * would point npm at the monorepo; keeps npm_config_nodedir (the headers CI gives node-gyp).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) || key === 'npm_config_nodedir') env[key] = value;
  }
  delete env.INIT_CWD;
  return env;
}

/**
 * Runs `command` through sh (the README's lines are shell lines), output kept for the assertion
 * message. sh leads its own process group, so a step over its time kills npm and everything npm
 * started (node-gyp, install scripts), not just the shell above them.
 */
export function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = STEP_TIMEOUT): Promise<Run> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (data: Buffer): void => {
      output = (output + data.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Whatever the group left behind (a daemonised grandchild) goes with it.
      killGroup(child.pid, 'SIGKILL');
      const note = timedOut ? `\n[killed: the step took over ${Math.round(timeoutMs / 60_000)} min (FRAGO_PACK_STEP_TIMEOUT_MIN)]` : '';
      done({ code, output: output + note });
    });
  });
}

/** Signals every process of the group `pid` leads; a group already gone is no error. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function shOk(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const run = await sh(command, cwd, env);
  assert.equal(run.code, 0, `\`${command}\` in ${cwd} exited ${run.code}:\n${run.output}`);
  return run.output;
}

/** Whether process `pid` still exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
