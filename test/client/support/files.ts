/**
 * Test files: random bytes written to a temp folder, with their digests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp folder holding generated files. */
export interface TempFiles {
  /** The folder. */
  dir: string;
  /** Writes `size` random bytes to `name`; returns the path and the bytes. */
  create(name: string, size: number): Promise<{ path: string; bytes: Buffer }>;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/** Creates a temp folder for generated files. */
export async function tempFiles(): Promise<TempFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'frago-client-files-'));
  return {
    dir,
    async create(name, size) {
      const bytes = randomBytes(size);
      const path = join(dir, name);
      await writeFile(path, bytes);
      return { path, bytes };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Hex digest of `bytes`. */
export function hexDigest(algorithm: 'md5' | 'sha256', bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

/** A unique, safe file name for one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.bin`;
}
