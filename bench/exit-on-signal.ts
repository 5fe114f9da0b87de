/**
 * Preloaded (`node --require`) into the app when it runs under `--cpu-prof`: node writes
 * the profile only on a normal exit, so a SIGTERM that nothing else handles must exit
 * the process instead of killing it. When the app has its own SIGTERM handler (graceful
 * shutdown), that handler is left to do its work.
 */
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

for (const signal of SIGNALS) {
  const handler = (): void => {
    if (process.listenerCount(signal) > 1) return;
    process.exit(0);
  };
  process.on(signal, handler);
}

export {};
