/** A server child process: started, awaited until its ready line, watched, measured, stopped. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { track } from './children';

const TAIL_LINES = 40;

export class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly lineWaiters = new Set<(line: string) => void>();
  private exitInfo: string | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(this.child);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`;
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    // Both pipes are always drained, so a chatty server never blocks on a full pipe.
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (${this.exitInfo ?? 'not started'})`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /** The last lines the process printed, for error messages. */
  outputTail(): string {
    return this.tail.map((l) => `    | ${l}`).join('\n');
  }

  private onLine(rawLine: string): void {
    // Strip ANSI colour codes so ready-line matching works on coloured logs.
    // eslint-disable-next-line no-control-regex -- ESC starts the colour codes this removes
    const line = rawLine.replace(/\u001b\[[0-9;]*m/g, '');
    this.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    for (const waiter of this.lineWaiters) waiter(line);
  }

  /** Resolves with the first printed line matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const found = this.tail.find((l) => pattern.test(l));
      if (found !== undefined) {
        resolve(found);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: Error | null, line = ''): void => {
        this.lineWaiters.delete(waiter);
        if (timer !== undefined) clearTimeout(timer);
        if (err) reject(err);
        else resolve(line);
      };
      const waiter = (line: string): void => {
        if (pattern.test(line)) finish(null, line);
      };
      this.lineWaiters.add(waiter);
      timer = setTimeout(
        () => finish(new Error(`${this.name} printed no line matching ${pattern} within ${timeoutMs / 1000} s; output:\n${this.outputTail()}`)),
        timeoutMs,
      );
      void this.exited.then(() => finish(new Error(`${this.name} exited (${this.exitInfo ?? '?'}) before it was ready; output:\n${this.outputTail()}`)));
    });
  }

  /** Peak resident set size over the process lifetime (VmHWM), in bytes; null if unreadable. */
  peakRssBytes(): number | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) * 1024 : null;
    } catch {
      return null;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process has exited. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timeout]);
    if (timer !== undefined) clearTimeout(timer);
    if (outcome === 'timeout') {
      process.stderr.write(`bench: ${this.name} did not exit within ${graceMs / 1000} s of SIGTERM; killing it\n`);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
