import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import type { Readable } from 'node:stream';
import {
  BodyTooSlowError,
  ChunkSizeMismatchError,
  FragoError,
  InvalidInputError,
  MalformedMultipartError,
  MultipartLimitError,
  NoChunkError,
} from '../errors/frago.errors';
import type { ChunkSource } from '../services/chunk.service';
import { assertStreamingMultipart } from './multipart-setup';
import { watchBodyRate, type BodyRate } from './body-rate';
import { closeWithoutDraining } from './refused-body-drain';

const MULTIPART = /^multipart\/form-data/i;
const RAW = /^application\/octet-stream/i;

/** Options of `request.parts()`; `throwFileSizeLimit` is read per call although the plugin's typings omit it. */
export type PartsOptions = NonNullable<Parameters<FastifyRequest['parts']>[0]> & { throwFileSizeLimit?: boolean };

/** Per-request limits of a chunk PUT's multipart body (the chunk is the `file` part; the rest is small). */
const CHUNK_FORM_LIMITS = { files: 4, fields: 32, fieldSize: 64 * 1024, parts: 64, headerPairs: 64 } as const;

/**
 * The chunk bytes of a PUT: the multipart part named `file` (frago clients),
 * parsed by @fastify/multipart, or a raw `application/octet-stream` body.
 * Nothing is read until `open()`; the bytes stream from the socket and are
 * never buffered. The iterable ends only once the whole body has arrived and
 * parsed (a multipart body up to its closing boundary), so a chunk is never
 * recorded from a truncated or malformed body; its errors are domain errors
 * (4xx) or, when the client went away, an abort. A body that arrives slower
 * than `rate` once it is being read aborts with a 408 (`BodyTooSlowError`)
 * and its connection closes after the answer without being drained.
 */
export function chunkSourceFromRequest(request: FastifyRequest, expectedSize: number, rate: BodyRate): ChunkSource {
  const raw = request.raw;
  const contentType = request.headers['content-type'] ?? '';
  const controller = new AbortController();
  raw.once('close', () => {
    if (!raw.complete) controller.abort(clientGone());
  });
  // A client that left before this handler ran (its 'close' already fired) is gone all the same,
  // and so is one that half-closed its side mid-body: no more bytes can come (newer Node keeps
  // such a request open instead of aborting it).
  if (raw.destroyed && !raw.complete) controller.abort(clientGone());
  const socket = raw.socket as Socket | null;
  // A half-closed client can still read the answer: its body is incomplete (400), it is not gone.
  const onSocketEnd = (): void => {
    if (!raw.complete) controller.abort(new InvalidInputError('The request body ended before its announced length (the client closed its side)'));
  };
  if (socket) {
    if (socket.readableEnded) onSocketEnd();
    else socket.once('end', onSocketEnd);
    raw.once('close', () => socket.off('end', onSocketEnd));
  }
  const watch = (): void =>
    watchBodyRate(raw, rate, () => {
      closeWithoutDraining(raw);
      controller.abort(new BodyTooSlowError(rate.minBytesPerSecond, rate.windowMs));
    });
  const discard = (): void => {
    if (raw.complete || raw.destroyed) return;
    raw.unpipe();
    raw.resume();
  };
  if (RAW.test(contentType)) {
    const length = request.headers['content-length'];
    if (length !== undefined && Number(length) !== expectedSize) {
      throw new InvalidInputError(`Body has ${Number(length)} bytes but Content-Range announces ${expectedSize}`);
    }
    return {
      signal: controller.signal,
      discard,
      // async so that a throw of watch() rejects, as every other open() does.
      // eslint-disable-next-line @typescript-eslint/require-await -- see above
      open: async () => {
        watch();
        return readWithoutDestroying(raw, controller.signal);
      },
    };
  }
  if (MULTIPART.test(contentType)) {
    return {
      signal: controller.signal,
      discard,
      open: () => {
        watch();
        return multipartChunk(request, expectedSize, controller.signal);
      },
    };
  }
  throw new NoChunkError();
}

/** Waits for the `file` part (other parts before it are skipped) and returns its bytes, followed by the check of the rest of the form. */
async function multipartChunk(request: FastifyRequest, expectedSize: number, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
  assertStreamingMultipart(request);
  // Per-call limits: the plugin's default file size is Fastify's bodyLimit (1 MiB). In stream
  // mode an oversize file is only marked `truncated`; the meter counts the bytes itself.
  const options: PartsOptions = { limits: { ...CHUNK_FORM_LIMITS, fileSize: expectedSize + 1 }, throwFileSizeLimit: false };
  const parts = request.parts(options);
  for (;;) {
    const next = await unlessAborted(parts.next(), signal).catch((error: unknown) => {
      throw multipartFailure(error, signal);
    });
    if (next.done) throw new NoChunkError();
    const part: Multipart = next.value;
    if (part.type !== 'file') continue;
    if (part.fieldname === 'file') return fileThenRestOfForm(part, parts, expectedSize, signal);
    part.file.resume();
  }
}

async function* fileThenRestOfForm(part: MultipartFile, parts: AsyncIterator<Multipart>, expectedSize: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  try {
    for await (const data of part.file) yield data as Buffer;
  } catch (error) {
    throw multipartFailure(error, signal);
  }
  if (part.file.truncated) throw new ChunkSizeMismatchError(expectedSize, expectedSize + 1);
  // The chunk counts only once the form is whole: parse the rest up to the closing boundary,
  // skipping whatever follows (a second file part is read and thrown away, never our stream).
  for (;;) {
    const next = await unlessAborted(parts.next(), signal).catch((error: unknown) => {
      throw multipartFailure(error, signal);
    });
    if (next.done) return;
    const later: Multipart = next.value;
    if (later.type === 'file') later.file.resume();
  }
}

/**
 * Reads a stream to its end without ever destroying it (the raw request is the
 * socket: destroying it would lose the answer). Stops when `signal` aborts.
 */
export async function* readWithoutDestroying(stream: Readable, signal: AbortSignal): AsyncGenerator<Buffer> {
  let wake: (() => void) | null = null;
  let ended = stream.readableEnded;
  let failure = null as Error | null; // set by the listeners below, which the compiler does not follow
  const notify = (): void => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (error: unknown): void => {
    failure ??= asError(error);
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= clientGone();
    notify();
  };
  const onAbort = (): void => onError(signal.reason ?? clientGone());
  stream.on('readable', notify);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  signal.addEventListener('abort', onAbort);
  if (signal.aborted) onAbort();
  else if (stream.destroyed && !ended) onClose();
  try {
    for (;;) {
      let data: Buffer | null;
      while (failure === null && (data = stream.read() as Buffer | null) !== null) yield data;
      if (failure !== null) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off('readable', notify);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onClose);
    signal.removeEventListener('abort', onAbort);
  }
}

/** A thrown or rejected value as an Error (streams and signals may carry anything). */
function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** A client that went away: recognised by the exception filter, never logged as a fault. */
export function clientGone(): Error {
  return Object.assign(new Error('client disconnected'), { name: 'AbortError', code: 'ABORT_ERR' });
}

const LIMITS: Record<string, string> = { FST_PARTS_LIMIT: 'parts', FST_FILES_LIMIT: 'files', FST_FIELDS_LIMIT: 'fields' };

const REASONS: [RegExp, string][] = [
  [/unexpected end/i, 'the body ended before the closing boundary'],
  [/terminated early/i, 'a part ended before its data did'],
  [/boundary/i, 'no valid boundary'],
  [/header/i, 'a part header is malformed'],
];

/** What a failure while parsing means: the client left (abort), a limit (413), or a malformed body (400). Never a server fault. */
export function multipartFailure(error: unknown, signal: AbortSignal): unknown {
  if (error instanceof FragoError) return error;
  if (signal.aborted) return signal.reason ?? clientGone();
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && LIMITS[code]) return new MultipartLimitError(code, LIMITS[code]);
  const message = error instanceof Error ? error.message : '';
  const reason = REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'the body is not valid multipart/form-data';
  return new MalformedMultipartError(reason, typeof code === 'string' && code.startsWith('FST_') ? code : undefined);
}

/**
 * `promise`, or a rejection as soon as `signal` aborts: the parser never hears of a request that
 * closed before it attached, and a handler waiting on it would hold its reservation for ever.
 * `promise` is always observed, also when the signal aborted first: the parser's own rejection
 * (the request's "aborted") comes later, and one nobody handles ends the process.
 */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason ?? clientGone()));
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(error));
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
