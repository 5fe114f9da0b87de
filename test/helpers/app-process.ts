/**
 * The one runner for app processes in tests: the example app
 * (apps/example/dist/main.js) or another entry point (the fault tests' host
 * app), started as a child process listening on port 0 of 127.0.0.1; its
 * port is read from the line it prints once listening.
 *
 * Every process is watched: a line of its output that shows an unhandled
 * error (a stack frame, `Unexpected error`, `Unhandled 'error' event`, an
 * unhandled rejection or uncaught exception) or an exit the test did not ask
 * for is a problem, and `stop()` / `AppProcesses.stopAll()` fail with it, so
 * every test that uses an app process fails when the app broke during it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Repository root (test/dist/helpers → three levels up). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** The compiled example app. */
export const EXAMPLE_MAIN = join(REPO_ROOT, 'apps', 'example', 'dist', 'main.js');
/** The compiled fault-test host app (example app + an upload.completed log table). */
export const HOST_APP_MAIN = join(REPO_ROOT, 'test', 'dist', 'faults', 'support', 'host-app.js');

const BOOT_TIMEOUT_MS = 60_000;
const LOG_LINES_KEPT = 400;

/**
 * Output that shows an error nothing handled; so does any {@link STACK_FRAME}:
 * the app logs the errors it handles without a stack.
 */
const STACK_FRAME = /^\s+at \S.*(?::\d+:\d+\)?|\(native\)|\(<anonymous>\))$/;
const UNHANDLED_PATTERNS: readonly RegExp[] = [/Unexpected error/, /Unhandled 'error' event/, /unhandled ?rejection/i, /uncaught ?exception/i];

/** A port nothing listens on right now (to test a client against a closed port; apps listen on port 0). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** What to start. */
export interface AppProcessOptions {
  /** Script to run. @default EXAMPLE_MAIN */
  main?: string;
  /** Environment on top of the parent's and the runner's defaults (DATABASE_URL, FRAGO_DATA_DIR, …). */
  env?: Record<string, string>;
  /** Working directory. @default REPO_ROOT */
  cwd?: string;
  /**
   * Output lines a test provokes on purpose (an injected failure): matching
   * lines are kept in the log but are not problems. @default []
   */
  expectedOutput?: RegExp[];
}

/** How a process ended. */
export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running app process. */
export class AppProcess {
  /** Port it listens on. */
  readonly port: number;
  /** e.g. http://127.0.0.1:PORT */
  readonly baseUrl: string;
  /** e.g. http://127.0.0.1:PORT/api */
  readonly apiUrl: string;
  /** e.g. http://127.0.0.1:PORT/api/upload */
  readonly uploadUrl: string;
  private exitRequested = false;

  private constructor(
    readonly process: ChildProcess,
    private readonly output: OutputWatch,
    private readonly exit: Promise<AppExit>,
    port: number,
  ) {
    this.port = port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api`;
    this.uploadUrl = `${this.apiUrl}/upload`;
  }

  /** Starts a process and resolves once it listens (rejects with its log when it does not). */
  static async start(options: AppProcessOptions = {}): Promise<AppProcess> {
    const child = spawn(process.execPath, [options.main ?? EXAMPLE_MAIN], {
      cwd: options.cwd ?? REPO_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NO_COLOR: '1',
        HOST: '127.0.0.1',
        PORT: '0',
        FRAGO_CLEANUP_INTERVAL_MS: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const output = new OutputWatch(child, options.expectedOutput ?? []);
    let port: number;
    try {
      port = await output.listening;
    } catch (error) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
      throw error;
    }
    return new AppProcess(child, output, exit, port);
  }

  /** Whether the process is still running. */
  running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Every output line kept so far (stdout and stderr, the last {@link LOG_LINES_KEPT}). */
  get log(): readonly string[] {
    return this.output.lines;
  }

  /** The last `count` output lines, for failure messages. */
  logTail(count = 40): string {
    return this.output.lines.slice(-count).join('\n');
  }

  /** Unhandled errors it printed and an exit nobody asked for, each with context. */
  problems(): string[] {
    const found = [...this.output.problems];
    if (!this.running() && !this.exitRequested) {
      found.push(`the app exited on its own (code ${this.process.exitCode}, signal ${this.process.signalCode})`);
    }
    return found;
  }

  /** Throws when {@link problems} found anything, with the log tail. */
  assertHealthy(what = 'the app'): void {
    const problems = this.problems();
    if (problems.length > 0) {
      throw new Error(`${what} (pid ${this.process.pid}) broke:\n- ${problems.join('\n- ')}\n--- last output ---\n${this.logTail()}`);
    }
  }

  /** Sends `signal`; the exit that follows is expected (a shutdown or crash test). */
  signal(signal: NodeJS.Signals): void {
    this.exitRequested = true;
    this.process.kill(signal);
  }

  /** Resolves with the exit code/signal, or rejects after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<AppExit> {
    return withTimeout(this.exit, timeoutMs, `process ${this.process.pid} still running after ${timeoutMs} ms`);
  }

  /** SIGKILLs the process (an expected exit) and waits until it is gone. */
  async kill(): Promise<void> {
    this.exitRequested = true;
    if (this.running()) this.process.kill('SIGKILL');
    await this.exit;
  }

  /** Kills the process, then fails when it broke while it ran (see {@link problems}). */
  async stop(): Promise<void> {
    const diedOnItsOwn = !this.running() && !this.exitRequested;
    await this.kill();
    const problems = this.output.problems.concat(
      diedOnItsOwn ? [`the app exited on its own (code ${this.process.exitCode}, signal ${this.process.signalCode})`] : [],
    );
    if (problems.length > 0) {
      throw new Error(`the app (pid ${this.process.pid}) broke:\n- ${problems.join('\n- ')}\n--- last output ---\n${this.logTail()}`);
    }
  }
}

/** Starts and tracks app processes; `stopAll()` ends every one and fails if any broke. */
export class AppProcesses {
  private readonly started: AppProcess[] = [];

  async start(options: AppProcessOptions = {}): Promise<AppProcess> {
    const app = await AppProcess.start(options);
    this.started.push(app);
    return app;
  }

  /** Kills every process still running, then throws the problems of all of them (if any). */
  async stopAll(): Promise<void> {
    const results = await Promise.allSettled(this.started.map((app) => app.stop()));
    this.started.length = 0;
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
  }
}

/** Reads the child's output lines: finds the listening port and every line that shows an unhandled error. */
class OutputWatch {
  readonly lines: string[] = [];
  readonly problems: string[] = [];
  readonly listening: Promise<number>;
  private previous: string | undefined;
  /** Inside a stack already reported (only its first frame is kept). */
  private inStack = false;
  /** Inside the stack of an expected line. */
  private skipStack = false;

  constructor(
    child: ChildProcess,
    private readonly expected: readonly RegExp[],
  ) {
    this.listening = new Promise<number>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`app not listening after ${BOOT_TIMEOUT_MS} ms:\n${this.lines.join('\n')}`)), BOOT_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new Error(`app exited (${code ?? signal}) before listening:\n${this.lines.join('\n')}`));
      };
      const onLine = (line: string): void => {
        this.record(line);
        const port = /listening on (?:https?:\/\/)?[^\s:]+:(\d+)/i.exec(line)?.[1];
        if (port !== undefined) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolvePromise(Number(port));
        }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      child.once('exit', onExit);
    });
    // A rejection nobody awaits (the test already failed elsewhere) must not become an unhandled one.
    this.listening.catch(() => undefined);
  }

  private record(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
    const previous = this.previous;
    this.previous = line;
    const frame = STACK_FRAME.test(line);
    const continuesStack = frame && this.inStack;
    this.inStack = frame;
    if (this.expected.some((pattern) => pattern.test(line))) {
      // The stack that follows an expected line is expected too.
      this.skipStack = true;
      return;
    }
    if (!frame) this.skipStack = false;
    if (continuesStack || (frame && this.skipStack)) return;
    if (frame || UNHANDLED_PATTERNS.some((pattern) => pattern.test(line))) {
      // The line before a stack names the error: keep both.
      const context = frame && previous !== undefined ? ` (after: ${previous.trim()})` : '';
      if (this.problems.length < 20) this.problems.push(`${line.trim()}${context}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
