/**
 * App processes for fault tests: the example app (apps/example/dist/main.js)
 * or the test host app (host-app.js beside this file), started on a free
 * loopback port, killed with any signal, restarted on the same database and
 * data folder. Every process started through a `ChildApps` is killed by
 * `killAll()`, which the specs call in `after` whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Repository root (test/dist/faults/support → four levels up). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
/** The compiled example app. */
export const EXAMPLE_MAIN = join(REPO_ROOT, 'apps', 'example', 'dist', 'main.js');
/** The compiled test host app (example app + an upload.completed log table). */
export const HOST_APP_MAIN = join(__dirname, 'host-app.js');

const BOOT_TIMEOUT_MS = 60_000;

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One running app process. */
export interface ChildApp {
  port: number;
  /** e.g. http://127.0.0.1:PORT/api/upload */
  uploadUrl: string;
  process: ChildProcess;
  /** Everything it logged so far (stdout and stderr lines). */
  log: string[];
  /** True once the process has exited. */
  exited(): boolean;
  /** Resolves with the exit code/signal, or rejects after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What to start. */
export interface StartOptions {
  /** Script to run. @default EXAMPLE_MAIN */
  main?: string;
  /** Environment on top of the parent's (DATABASE_URL, FRAGO_DATA_DIR, …). */
  env: Record<string, string>;
  /** Reuse a port (restart on the same address). */
  port?: number;
}

/** Starts and tracks app processes; `killAll()` ends every one still running. */
export class ChildApps {
  private readonly children = new Set<ChildProcess>();

  async start(options: StartOptions): Promise<ChildApp> {
    const port = options.port ?? (await freePort());
    const child = spawn(process.execPath, [options.main ?? EXAMPLE_MAIN], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), FRAGO_CLEANUP_INTERVAL_MS: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    const log: string[] = [];
    const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    try {
      await listening(child, log);
    } catch (error) {
      await this.kill(child);
      throw error;
    }
    return {
      port,
      uploadUrl: `http://127.0.0.1:${port}/api/upload`,
      process: child,
      log,
      exited: () => child.exitCode !== null || child.signalCode !== null,
      waitExit: (timeoutMs) => withTimeout(exit, timeoutMs, `process ${child.pid} still running after ${timeoutMs} ms`),
    };
  }

  /** SIGKILLs one process and waits for it to be gone. */
  async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGKILLs every tracked process that is still running. */
  async killAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.kill(child)));
  }
}

function listening(child: ChildProcess, log: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`app not listening after ${BOOT_TIMEOUT_MS} ms:\n${log.join('\n')}`)), BOOT_TIMEOUT_MS);
    const onLine = (line: string): void => {
      log.push(line);
      if (/listening/i.test(line)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolvePromise();
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code ?? signal}) before listening:\n${log.join('\n')}`));
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', onExit);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
