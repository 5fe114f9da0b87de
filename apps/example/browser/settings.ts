/**
 * Where the page uploads, which mode the server runs in, and the options a file is
 * uploaded with (read from the form when it is added).
 */
import type { ChecksumAlgorithm } from 'nestjs-frago-client';
import { ui } from './dom';

export type Protocol = 'frago' | 'tus';

/** Options captured when a file is added, so changing them later does not affect files already queued. */
export interface UploadSettings {
  protocol: Protocol;
  chunkSize: number;
  parallel: number;
  checksum: ChecksumAlgorithm;
  token: string | undefined;
}

export const API_URL = new URL('/api', location.href).href;
/** The example app's tus endpoint (FRAGO_TUS_PATH, `files` by default). */
export const TUS_URL = new URL('/api/files/', location.href).href;
export const TOKEN_KEY = 'nestjs-frago-demo.token';
export const LIST_LIMIT = 20;

/** True once the server answered 401 to listing: `user` mode, where a token is needed. */
let userMode = false;

export function isUserMode(): boolean {
  return userMode;
}

export function setUserMode(value: boolean): void {
  userMode = value;
}

export function currentToken(): string | undefined {
  const token = ui.token.value.trim();
  return userMode && token !== '' ? token : undefined;
}

export function readSettings(): UploadSettings {
  const parallel = Math.min(16, Math.max(1, Math.round(Number(ui.parallel.value) || 4)));
  ui.parallel.value = String(parallel);
  const checksum: ChecksumAlgorithm = ui.algorithm.value === 'sha256' ? 'sha256' : 'md5';
  const protocol: Protocol = ui.protocol.value === 'tus' && !ui.protocolField.hidden ? 'tus' : 'frago';
  return { protocol, chunkSize: Number(ui.chunkSize.value), parallel, checksum, token: currentToken() };
}
