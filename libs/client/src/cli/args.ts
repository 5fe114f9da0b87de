/**
 * Command-line parsing for `frago-upload` with `node:util` parseArgs.
 */
import { parseArgs } from 'node:util';
import type { ChecksumAlgorithm } from '../checksum';
import { DEFAULT_CHUNK_SIZE, DEFAULT_PARALLEL } from '../options';
import { parseSize } from './units';

/** The wire protocol of a run. */
export type CliProtocol = 'frago' | 'tus';

/** The validated command line. */
export interface CliArgs {
  /** frago (the default) or tus 1.0 (`--protocol tus`). */
  protocol: CliProtocol;
  /** Path of the tus endpoint under the API base (the server's `tusPath`). */
  tusPath: string;
  /** Path of the file to upload. */
  file: string;
  /** API base URL, e.g. http://127.0.0.1:3000/api. */
  url: string;
  /** Bearer token. */
  token?: string;
  /** Extra request headers (`--header 'Name: value'`, repeatable). */
  headers: Record<string, string>;
  /** Path of the operations under the API base (the server's `routePrefix`). */
  uploadPath?: string;
  /** Chunks in flight. */
  parallel: number;
  /** Bytes per chunk. */
  chunkSize: number;
  /** Whole-file checksum algorithm (frago). */
  algo: ChecksumAlgorithm;
  /** Upload id to resume. */
  resume?: string;
  /** Neither read nor write the state file. */
  noState: boolean;
  /** Retries per request. */
  retries?: number;
  /** Send a per-chunk Content-Digest header. */
  digest: boolean;
}

/** The help text. */
export const USAGE = `Usage: frago-upload FILE --url URL [options]

Uploads FILE to a frago / nestjs-frago server in parallel chunks, resuming an
interrupted upload of the same file, and exits 0 once the server has confirmed
the whole-file checksum (frago) or holds every byte (tus).

Options:
  --url URL            API base, e.g. http://127.0.0.1:3000/api (required)
  --protocol P         frago (default) or tus: tus 1.0 with tus-js-client to URL/TUS-PATH;
                       --parallel N > 1 sends N partial uploads the server concatenates
  --tus-path P         path of the tus endpoint under --url, the server's tusPath (default files)
  --token T            bearer token (Authorization: Bearer T)
  --header 'N: V'      extra request header, e.g. --header 'x-device-key: K' (repeatable)
  --upload-path P      path of the operations under --url, the server's routePrefix (default upload)
  --parallel N         chunks in flight at once (default ${DEFAULT_PARALLEL})
  --chunk-size S       chunk size: bytes or 512K, 8M, 1G (default 8M)
  --algo md5|sha256    whole-file checksum algorithm (default md5)
  --resume ID          resume this upload id
  --no-state           do not read or write FILE.frago-upload.json
  --retries N          retries per request (default 5)
  --digest             send a Content-Digest (sha-256) header with each chunk
  -h, --help           show this help

Exit status: 0 when the server confirmed the upload, 1 on error, 130 when interrupted.`;

/** Thrown for a bad command line; the message is shown with a hint to --help. */
export class UsageError extends Error {}

/** Parses a positive integer option. */
function positiveInt(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || (!allowZero && value === 0)) {
    throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text}"`);
  }
  return value;
}

/** Parses `argv` (without node and script); returns 'help' when help was asked for. */
export function parseCliArgs(argv: string[]): CliArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        protocol: { type: 'string' },
        'tus-path': { type: 'string' },
        token: { type: 'string' },
        header: { type: 'string', multiple: true },
        'upload-path': { type: 'string' },
        parallel: { type: 'string' },
        'chunk-size': { type: 'string' },
        algo: { type: 'string' },
        resume: { type: 'string' },
        'no-state': { type: 'boolean' },
        retries: { type: 'string' },
        digest: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing FILE' : 'expected exactly one FILE');
  if (values.url === undefined) throw new UsageError('missing --url (the API base, e.g. http://127.0.0.1:3000/api)');
  if (!/^https?:\/\/[^/]/i.test(values.url)) throw new UsageError(`--url must be an http(s) URL, got "${values.url}"`);
  const algo = values.algo ?? 'md5';
  if (algo !== 'md5' && algo !== 'sha256') throw new UsageError(`--algo must be md5 or sha256, got "${algo}"`);
  let chunkSize = DEFAULT_CHUNK_SIZE;
  if (values['chunk-size'] !== undefined) {
    try {
      chunkSize = parseSize(values['chunk-size']);
    } catch (error) {
      throw new UsageError(`--chunk-size: ${(error as Error).message}`);
    }
  }
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(header);
    if (!match || match[2].trim() === '') throw new UsageError(`--header must be 'Name: value', got "${header}"`);
    headers[match[1].toLowerCase()] = match[2].trim();
  }
  const uploadPath = values['upload-path']?.replace(/^\/+|\/+$/g, '');
  if (uploadPath !== undefined && (uploadPath === '' || /[?#\s]/.test(uploadPath))) {
    throw new UsageError(`--upload-path must be a path such as files or v1/upload, got "${values['upload-path']}"`);
  }
  const protocol = values.protocol ?? 'frago';
  if (protocol !== 'frago' && protocol !== 'tus') throw new UsageError(`--protocol must be frago or tus, got "${protocol}"`);
  if (protocol === 'tus') {
    // Frago-only options: tus has no whole-file checksum confirmation nor per-chunk Content-Digest.
    for (const name of ['algo', 'digest', 'upload-path'] as const) {
      if (values[name] !== undefined) throw new UsageError(`--${name} applies to the frago protocol only, not to --protocol tus`);
    }
  }
  const tusPath = (values['tus-path'] ?? 'files').replace(/^\/+|\/+$/g, '');
  if (tusPath === '' || /[?#\s]/.test(tusPath)) throw new UsageError(`--tus-path must be a path such as files, got "${values['tus-path']}"`);
  if (values['tus-path'] !== undefined && protocol !== 'tus') throw new UsageError('--tus-path applies to --protocol tus only');
  return {
    protocol,
    tusPath,
    file: positionals[0],
    url: values.url,
    token: values.token,
    headers,
    uploadPath,
    parallel: values.parallel === undefined ? DEFAULT_PARALLEL : positiveInt('parallel', values.parallel),
    chunkSize,
    algo,
    resume: values.resume,
    noState: values['no-state'] === true,
    retries: values.retries === undefined ? undefined : positiveInt('retries', values.retries, true),
    digest: values.digest === true,
  };
}
