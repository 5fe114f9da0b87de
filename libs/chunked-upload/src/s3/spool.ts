import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const SPOOL_PREFIX = 'frago-s3-';
const SPOOL_SUFFIX = '.spool';
/** Bytes per read of a spool file: small reads keep fewer short-lived buffers waiting for the garbage collector. */
export const READ_SIZE = 256 * 1024;

/** A body spooled to a local temporary file, with what `PutObject`/`UploadPart` need before it. */
export interface SpooledBody {
  /** The spool file. */
  path: string;
  size: number;
  /** Base64 MD5 for the `Content-MD5` header. */
  md5: string;
  /** A fresh stream of the bytes (one per attempt). */
  open(): Readable;
  /** Deletes the file. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * Why a spool: S3 verifies a body only against a `Content-MD5` sent *before*
 * it (the engines ignore the SHA-256 checksum headers, and a trailing checksum
 * needs `aws-chunked`, which Ceph and Swift refuse), and the MD5 of a stream is
 * known only at its end. Holding the body in memory would cost a chunk's size
 * per request in flight; a temporary file costs no memory, keeps a retried
 * request possible, and stays in the page cache for the one read that follows.
 */
export async function spool(source: Readable, dir: string, signal?: AbortSignal): Promise<SpooledBody> {
  const path = spoolPath(dir);
  const md5 = createHash('md5');
  let size = 0;
  const dispose = (): Promise<void> => removeFile(path);
  try {
    const out = createWriteStream(path, { flags: 'wx' });
    const tap = new Transform({
      transform(data: Buffer, _encoding, done) {
        md5.update(data);
        size += data.length;
        done(null, data);
      },
    });
    await pipeline(source, tap, out, signal ? { signal } : {});
  } catch (error) {
    await dispose().catch(() => undefined);
    source.destroy();
    throw error;
  }
  return { path, size, md5: md5.digest('base64'), open: () => createReadStream(path, { highWaterMark: READ_SIZE }), dispose };
}

/** Deletes a spool file; one already gone is fine. (unlink: `fs.rm` stats the path first.) */
export async function removeFile(path: string): Promise<void> {
  await fs.unlink(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}

/** A fresh spool file name in `dir` (named after this process, so that `sweepSpool` knows whose it is). */
export function spoolPath(dir: string): string {
  return join(dir, `${SPOOL_PREFIX}${process.pid}-${randomUUID()}${SPOOL_SUFFIX}`);
}

/** Removes spool files left by processes of this host that no longer run (kill -9). */
export async function sweepSpool(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(SPOOL_PREFIX) || !name.endsWith(SPOOL_SUFFIX)) continue;
    const pid = Number(name.slice(SPOOL_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    await fs.rm(join(dir, name), { force: true }).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
