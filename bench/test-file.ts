/** Generates random test files and hashes files, streaming through one reused buffer. */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';

const PIECE = 8 * 1024 * 1024;

export interface TestFile {
  path: string;
  size: number;
  md5: string;
}

/** Writes `size` random bytes to `path` and returns the file's md5, computed in the same pass. */
export function generateTestFile(path: string, size: number): TestFile {
  const hash = createHash('md5');
  const piece = Buffer.allocUnsafe(Math.min(PIECE, size));
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    while (written < size) {
      const n = Math.min(piece.length, size - written);
      const view = piece.subarray(0, n);
      randomFillSync(view);
      hash.update(view);
      let offset = 0;
      while (offset < n) offset += writeSync(fd, view, offset, n - offset, written + offset);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
  return { path, size, md5: hash.digest('hex') };
}

/** Hashes a file with node:crypto, reading it once in 8 MiB pieces. */
export async function hashFile(path: string, algorithm = 'md5'): Promise<{ digest: string; size: number }> {
  const hash = createHash(algorithm);
  const buffer = Buffer.allocUnsafe(PIECE);
  const handle = await open(path, 'r');
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { digest: hash.digest('hex'), size };
}
