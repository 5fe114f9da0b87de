#!/usr/bin/env node
/**
 * `frago-upload FILE --url URL …`: uploads one file with a progress bar,
 * resuming an interrupted upload of the same file. Exit status 0 only when the
 * server confirmed the upload (201 on finalize; with `--protocol tus`, the
 * last PATCH answered the full offset); 1 with a one-line error on stderr
 * otherwise; 130 when interrupted.
 */
import { UploadError } from '../errors';
import { fileSource, upload, type NodeFileSource, type UploadResult } from '../node';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './args';
import { createProgressDisplay } from './progress-display';
import { readState, removeState, stateMatches, writeState } from './state-file';
import { formatBytes } from '../format-bytes';
import { tusUpload, type TusRunResult } from './tus-upload';

const PROGRAM = 'frago-upload';

/** Upload ids a state file may point to that the server no longer has: start afresh instead. */
function isGone(error: unknown): boolean {
  return error instanceof UploadError && (error.status === 404 || error.status === 410 || error.code === 'RESUME_MISMATCH');
}

/** The id to resume: `--resume`, else a state file that matches this file and server. */
async function resumeIdFor(args: CliArgs, source: NodeFileSource): Promise<{ id?: string; fromState: boolean }> {
  if (args.resume !== undefined) return { id: args.resume, fromState: false };
  if (args.noState) return { fromState: false };
  const state = await readState(args.file);
  const usable = state !== undefined && stateMatches(state, args.url, source.size, source.mtimeMs);
  return usable ? { id: state.uploadId, fromState: true } : { fromState: false };
}

/** Runs one upload attempt with the display and the state file wired in. */
async function runUpload(args: CliArgs, source: NodeFileSource, uploadId: string | undefined, signal: AbortSignal): Promise<UploadResult> {
  const display = createProgressDisplay(process.stderr);
  let stateWritten: Promise<void> = Promise.resolve();
  try {
    return await upload(source, {
      url: args.url,
      token: args.token,
      headers: args.headers,
      uploadPath: args.uploadPath,
      parallel: args.parallel,
      chunkSize: args.chunkSize,
      checksum: args.algo,
      chunkDigest: args.digest,
      retries: args.retries,
      uploadId,
      signal,
      onProgress: (progress) => display.update(progress),
      onStart: (id) => {
        if (args.noState || id === uploadId) return;
        const state = { version: 1 as const, url: args.url, uploadId: id, size: source.size, mtimeMs: source.mtimeMs };
        stateWritten = writeState(args.file, state).catch((error: unknown) => {
          process.stderr.write(
            `${PROGRAM}: warning: cannot write state file (${error instanceof Error ? error.message : String(error)}); resume with --resume ${id}\n`,
          );
        });
      },
    });
  } finally {
    display.stop();
    await stateWritten; // so a later removeState() cannot run before this write lands
  }
}

/** One tus attempt (`--protocol tus`) with the display and the state file wired in. */
async function runTusUpload(args: CliArgs, source: NodeFileSource, uploadId: string | undefined, signal: AbortSignal): Promise<TusRunResult> {
  const display = createProgressDisplay(process.stderr);
  let stateWritten: Promise<void> = Promise.resolve();
  const headers = { ...args.headers, ...(args.token === undefined ? {} : { authorization: `Bearer ${args.token}` }) };
  try {
    return await tusUpload({
      endpoint: `${args.url}/${args.tusPath}`,
      path: source.path,
      name: source.name,
      size: source.size,
      chunkSize: args.chunkSize,
      parallel: args.parallel,
      headers,
      retries: args.retries,
      resumeId: uploadId,
      signal,
      onProgress: (progress) => display.update(progress),
      onStart: (id) => {
        if (args.noState || id === uploadId) return;
        const state = { version: 1 as const, url: `${args.url}/${args.tusPath}`, uploadId: id, size: source.size, mtimeMs: source.mtimeMs };
        stateWritten = writeState(args.file, state).catch((error: unknown) => {
          process.stderr.write(
            `${PROGRAM}: warning: cannot write state file (${error instanceof Error ? error.message : String(error)}); resume with --resume ${id}\n`,
          );
        });
      },
    });
  } finally {
    display.stop();
    await stateWritten;
  }
}

/** Uploads, resuming when possible; a stale state file is dropped and the upload restarted once. */
async function main(args: CliArgs, signal: AbortSignal): Promise<UploadResult | TusRunResult> {
  const source = await fileSource(args.file).catch((error: unknown) => {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new Error(`cannot read ${args.file}: ${code === 'ENOENT' ? 'no such file' : message}`);
  });
  try {
    // A tus state file names the tus endpoint, a frago one the API base: neither resumes the other.
    const stateUrl = args.protocol === 'tus' ? `${args.url}/${args.tusPath}` : args.url;
    const resume = await resumeIdFor({ ...args, url: stateUrl }, source);
    const run = (id: string | undefined): Promise<UploadResult | TusRunResult> =>
      args.protocol === 'tus' ? runTusUpload(args, source, id, signal) : runUpload(args, source, id, signal);
    let result: UploadResult | TusRunResult;
    try {
      result = await run(resume.id);
    } catch (error) {
      if (!resume.fromState || !isGone(error)) throw error;
      process.stderr.write(`${PROGRAM}: previous upload ${resume.id} is no longer resumable (${(error as Error).message}); starting a new one\n`);
      await removeState(args.file);
      result = await run(undefined);
    }
    if (!args.noState) await removeState(args.file);
    return result;
  } finally {
    await source.close?.();
  }
}

/** One line describing success, for stdout. */
function successLine(file: string, result: UploadResult | TusRunResult): string {
  if ('partialUploads' in result) return tusSuccessLine(file, result);
  const seconds = result.durationMs / 1000;
  const rate = seconds > 0 ? `, ${formatBytes(result.sentBytes / seconds)}/s` : '';
  const resumed = result.resumed ? `, resumed with ${formatBytes(result.resumedBytes)} already on the server` : '';
  return (
    `${PROGRAM}: uploaded ${file} (${formatBytes(result.size)}) in ${seconds.toFixed(1)} s${rate}${resumed}; ` +
    `upload_id ${result.uploadId}; ${result.algorithm} ${result.checksum} confirmed by the server\n`
  );
}

/** The success line of a tus run: tus confirms the bytes (the final offset), not a whole-file checksum. */
function tusSuccessLine(file: string, result: TusRunResult): string {
  const seconds = result.durationMs / 1000;
  const rate = seconds > 0 ? `, ${formatBytes((result.size - result.resumedBytes) / seconds)}/s` : '';
  const resumed = result.resumedBytes > 0 ? `, resumed with ${formatBytes(result.resumedBytes)} already on the server` : '';
  const parts = result.partialUploads > 0 ? ` from ${result.partialUploads} partial uploads concatenated by the server` : '';
  return (
    `${PROGRAM}: uploaded ${file} (${formatBytes(result.size)}) in ${seconds.toFixed(1)} s${rate}${resumed}; ` +
    `upload_id ${result.uploadId}; stored through tus at ${result.url}${parts}\n`
  );
}

/** One line describing a failure, for stderr. */
function errorLine(error: unknown, interrupted: boolean): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
  const id = error instanceof UploadError ? error.uploadId : undefined;
  if (interrupted) return `${PROGRAM}: interrupted${id ? `; run the same command again to resume upload ${id}` : ''}\n`;
  const status = error instanceof UploadError && error.status > 0 && !message.startsWith('HTTP ') ? `HTTP ${error.status}: ` : '';
  const hint = id !== undefined && error instanceof UploadError && error.retryable ? ` (upload ${id}; run again to resume)` : '';
  return `${PROGRAM}: error: ${status}${message}${hint}\n`;
}

/** Entry point: parses the command line, runs, and sets the exit status. */
async function cli(argv: string[]): Promise<number> {
  let args: CliArgs | 'help';
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${PROGRAM}: ${error.message}\nTry '${PROGRAM} --help'.\n`);
    return 1;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  args.url = args.url.replace(/\/+$/, '');
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    process.stdout.write(successLine(args.file, await main(args, controller.signal)));
    return 0;
  } catch (error) {
    process.stderr.write(errorLine(error, controller.signal.aborted));
    return controller.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

cli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${PROGRAM}: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
