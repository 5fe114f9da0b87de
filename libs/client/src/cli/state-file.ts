/**
 * The resume state kept next to the file being uploaded
 * (`FILE.frago-upload.json`): written once the upload has an id, removed on
 * success, trusted only when URL, size and mtime still match.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

/** What is stored. */
export interface UploadState {
  /** Format version. */
  version: 1;
  /** API base the upload was started against. */
  url: string;
  /** The server's upload id. */
  uploadId: string;
  /** File size when the upload started. */
  size: number;
  /** File modification time (ms) when the upload started. */
  mtimeMs: number;
}

/** Path of the state file for `file`. */
export function statePath(file: string): string {
  return `${file}.frago-upload.json`;
}

/** Reads the state for `file`; undefined when absent or unreadable (a corrupt file is simply ignored). */
export async function readState(file: string): Promise<UploadState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(file), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as Partial<UploadState>;
    const valid =
      state.version === 1 &&
      typeof state.url === 'string' &&
      typeof state.uploadId === 'string' &&
      typeof state.size === 'number' &&
      typeof state.mtimeMs === 'number';
    return valid ? (state as UploadState) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `state` describes an upload of this very file to this server. */
export function stateMatches(state: UploadState, url: string, size: number, mtimeMs: number): boolean {
  return state.url === url && state.size === size && state.mtimeMs === mtimeMs;
}

/** Writes the state atomically (temp file, then rename). */
export async function writeState(file: string, state: UploadState): Promise<void> {
  const target = statePath(file);
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, target);
}

/** Removes the state file, if any. */
export async function removeState(file: string): Promise<void> {
  await rm(statePath(file), { force: true });
}
