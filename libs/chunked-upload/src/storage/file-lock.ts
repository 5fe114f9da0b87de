import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The part of `fs-native-extensions` used here. */
interface NativeLocks {
  tryLock(fd: number, options: { shared: boolean }): boolean;
  unlock(fd: number): void;
}

let native: NativeLocks | null | undefined;

/** The native lock binding, or null where it cannot load (then writes are not fenced). */
export function nativeLocks(): NativeLocks | null {
  if (native === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      native = require('fs-native-extensions') as NativeLocks;
    } catch {
      native = null;
    }
  }
  return native;
}

const POLL_MS = 5;

/**
 * Takes a whole-file lock on an open file, waiting at most `timeoutMs`.
 *
 * On Linux these are open file description locks (fcntl F_OFD_SETLK, via
 * fs-native-extensions, which ships prebuilt binaries): like flock(2) they
 * belong to one open file, not to the process, so two handles of one process
 * conflict as two processes do, and the kernel drops them when the file is
 * closed or the process dies (a killed instance never leaves one behind); a
 * stopped process keeps them, which is the point. Taking a shared lock on a
 * handle holding the exclusive one downgrades it atomically. The wait polls
 * the non-blocking call rather than parking a libuv thread in the blocking
 * one, so waits are bounded and never starve the file system thread pool.
 * Resolves false on timeout; true when there is no native binding (no fencing).
 */
export async function lockFile(handle: FileHandle, mode: 'shared' | 'exclusive', timeoutMs: number): Promise<boolean> {
  const locks = nativeLocks();
  if (!locks) return true;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (locks.tryLock(handle.fd, { shared: mode === 'shared' })) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** Releases this handle's lock (closing the handle releases it too). */
export function unlockFile(handle: FileHandle): void {
  const locks = nativeLocks();
  if (locks && handle.fd >= 0) {
    try {
      locks.unlock(handle.fd);
    } catch {
      // the close that follows releases it anyway
    }
  }
}
