/**
 * Node-only entry (`nestjs-frago-client/node`): everything from the main
 * entry plus `fileSource(path)`, which reads byte ranges from disk on demand
 * so a file of any size is never held in memory.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FileSource } from './file-source';

export * from './index';

/** A `FileSource` backed by a file on disk, with the metadata a resume check needs. */
export interface NodeFileSource extends FileSource {
  /** Absolute or relative path given to `fileSource`. */
  readonly path: string;
  /** Modification time (ms since epoch) when the source was opened. */
  readonly mtimeMs: number;
}

/**
 * Opens `path` for uploading. The file handle is opened on first read and
 * released by `close()` (which `upload()` calls when it ends); reading again
 * afterwards reopens it, so one source can serve several runs.
 */
export async function fileSource(path: string, name: string = basename(path)): Promise<NodeFileSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a regular file`);
  let handle: Promise<FileHandle> | undefined;
  return {
    path,
    name,
    size: info.size,
    mtimeMs: info.mtimeMs,
    async slice(start: number, end: number): Promise<Uint8Array> {
      handle ??= open(path, 'r');
      const file = await handle;
      const bytes = new Uint8Array(Math.max(0, end - start));
      let filled = 0;
      while (filled < bytes.length) {
        const { bytesRead } = await file.read(bytes, filled, bytes.length - filled, start + filled);
        if (bytesRead === 0) break; // the file shrank: the caller sees a short read
        filled += bytesRead;
      }
      return filled === bytes.length ? bytes : bytes.subarray(0, filled);
    },
    async close(): Promise<void> {
      const pending = handle;
      handle = undefined;
      if (pending !== undefined) await (await pending).close();
    },
  };
}
