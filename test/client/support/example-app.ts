/**
 * Starts the real example app (apps/example/dist/main.js) as a child process
 * on a free loopback port, with a temp SQLite database and data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Repository root (test/dist/client/support → four levels up). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** A running example app. */
export interface ExampleApp {
  /** API base, e.g. http://127.0.0.1:41234/api. */
  apiUrl: string;
  /** Port it listens on. */
  port: number;
  /** FRAGO_DATA_DIR of the app. */
  dataDir: string;
  /** Whether the app process is still running (false once it crashed or was stopped). */
  isRunning(): boolean;
  /** The app's last log lines (stdout and stderr), for failure messages. */
  logTail(): string;
  /** Reads a published file back from `assembled_uploads/`. */
  readAssembled(name: string): Promise<Buffer>;
  /** Stops the app and removes its temp folder. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the app cannot listen on port 0 itself). */
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

/** Collects the child's output lines; resolves `listening` on the first line containing "listening". */
function watchOutput(child: ChildProcess): { log: string[]; listening: Promise<void> } {
  const log: string[] = [];
  const listening = new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`example app not listening after 60 s:\n${log.join('\n')}`)), 60_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`example app exited (${code}) before listening:\n${log.join('\n')}`));
    };
    const onLine = (line: string): void => {
      log.push(line);
      if (log.length > 200) log.shift();
      if (/listening/i.test(line)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolvePromise();
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', onExit);
  });
  return { log, listening };
}

/** Starts the example app; `env` overrides its environment. Always call `stop()` (e.g. in `after`). */
export async function startExampleApp(env: Record<string, string> = {}): Promise<ExampleApp> {
  const root = await mkdtemp(join(tmpdir(), 'frago-client-test-'));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'example', 'dist', 'main.js')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(root, 'db.sqlite')}`,
      FRAGO_DATA_DIR: dataDir,
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(root, { recursive: true, force: true });
  };
  const { log, listening } = watchOutput(child);
  try {
    await listening;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    apiUrl: `http://127.0.0.1:${port}/api`,
    port,
    dataDir,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    logTail: () => log.slice(-40).join('\n'),
    readAssembled: (name) => readFile(join(dataDir, 'assembled_uploads', name)),
    stop,
  };
}
