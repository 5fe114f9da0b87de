/**
 * Every child process the bench starts is registered here and killed when the bench
 * exits — normally, on an error, or on Ctrl-C / SIGTERM. Cleanup callbacks (temporary
 * folders, databases) run too.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const syncCleanups: Array<() => void> = [];
const asyncCleanups = new Set<() => Promise<void>>();
let installed = false;

export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Runs at exit, synchronously (e.g. removing the temporary folder). */
export function onExitSync(cleanup: () => void): void {
  syncCleanups.push(cleanup);
}

/** Runs on an interrupt before exiting (e.g. dropping a database); returns an unregister function. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  asyncCleanups.add(cleanup);
  return () => asyncCleanups.delete(cleanup);
}

function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function runSyncCleanups(): void {
  while (syncCleanups.length > 0) {
    const cleanup = syncCleanups.pop();
    try {
      cleanup?.();
    } catch {
      // best effort at exit
    }
  }
}

export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    killAllNow();
    runSyncCleanups();
  });
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping servers and cleaning up…\n`);
    killAllNow();
    const pending = [...asyncCleanups].map((c) => c().catch(() => undefined));
    const deadline = new Promise<void>((r) => setTimeout(r, 5000).unref());
    void Promise.race([Promise.all(pending), deadline]).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}
