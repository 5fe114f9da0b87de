/**
 * The real example app for client tests: an {@link AppProcess} with its own
 * temp folder (SQLite database and data folder), removed by `stop()`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../../helpers/app-process';

export { REPO_ROOT } from '../../helpers/app-process';

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
  /** Stops the app and removes its temp folder; fails when the app logged an unhandled error or died meanwhile. */
  stop(): Promise<void>;
}

/** Starts the example app; `env` overrides its environment. Always call `stop()` (e.g. in `after`). */
export async function startExampleApp(env: Record<string, string> = {}): Promise<ExampleApp> {
  const root = await mkdtemp(join(tmpdir(), 'frago-client-test-'));
  const dataDir = join(root, 'data');
  let app: AppProcess;
  try {
    app = await AppProcess.start({
      cwd: root,
      env: { DATABASE_URL: `sqlite:${join(root, 'db.sqlite')}`, FRAGO_DATA_DIR: dataDir, ...env },
    });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    apiUrl: app.apiUrl,
    port: app.port,
    dataDir,
    isRunning: () => app.running(),
    logTail: () => app.logTail(),
    readAssembled: (name) => readFile(join(dataDir, 'assembled_uploads', name)),
    stop: async () => {
      try {
        await app.stop();
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}
