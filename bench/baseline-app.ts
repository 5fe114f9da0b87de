/**
 * The baseline's frago endpoints (start, chunk, finalize) over uploads kept in memory.
 * Each chunk body streams straight into one preallocated file per upload at its offset;
 * finalize hashes that file once. With `fsync` each chunk is flushed (fdatasync) before
 * it is acknowledged.
 */
import Busboy from '@fastify/busboy';
import { randomUUID, getHashes } from 'node:crypto';
import { close, fdatasync, ftruncate, open } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { HttpError, readForm, sendJson } from './baseline-http';
import { PositionalWriter, RangeOverflowError } from './positional-writer';
import { hashFile } from './test-file';
import { UPLOAD_ID_SOURCE } from 'nestjs-frago/dist/protocol/upload-id';

const openAsync = promisify(open);
const ftruncateAsync = promisify(ftruncate);
const closeAsync = promisify(close);
const fdatasyncAsync = promisify(fdatasync);

interface Upload {
  id: string;
  filename: string;
  totalSize: number;
  path: string;
  fd: number;
  /** start → size of every stored chunk. */
  chunks: Map<number, number>;
  complete: boolean;
  finalizing: Promise<FinalizeOutcome> | null;
}

type FinalizeOutcome = { ok: true } | { ok: false; status: number; message: string };

const UPLOAD_ROUTE = new RegExp(`^/api/upload/(${UPLOAD_ID_SOURCE})/?$`, 'i');
const HASHES = new Set(getHashes());

export class BaselineServer {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    const isPut = method === 'PUT';
    try {
      if (path === '/api/upload/' || path === '/api/upload') {
        if (method !== 'POST') throw new HttpError(405, 'Method not allowed');
        await this.start(req, res);
        return;
      }
      const match = UPLOAD_ROUTE.exec(path);
      const upload = match ? this.uploads.get(match[1].toLowerCase()) : undefined;
      if (upload === undefined) throw new HttpError(404, 'Upload not found');
      if (isPut) await this.chunk(upload, req, res);
      else if (method === 'POST') await this.finalize(upload, req, res);
      else throw new HttpError(405, 'Method not allowed');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof RangeOverflowError ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The request body may be partly unread: answer, then close the connection.
      const bodyLeft = !req.readableEnded;
      sendJson(res, status, isPut ? { status: false, error: message } : { status: false, message }, bodyLeft);
      if (bodyLeft) req.resume();
    }
  }

  private async start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const filename = form.filename;
    const totalSize = typeof form.total_size === 'string' && /^\d+$/.test(form.total_size) ? Number(form.total_size) : form.total_size;
    if (typeof filename !== 'string' || filename.length === 0) throw new HttpError(400, 'filename is required');
    if (typeof totalSize !== 'number' || !Number.isSafeInteger(totalSize) || totalSize <= 0) {
      throw new HttpError(400, 'total_size must be a positive integer');
    }
    const id = randomUUID();
    const path = join(this.dir, `${id}.bin`);
    const fd = await openAsync(path, 'w+');
    await ftruncateAsync(fd, totalSize);
    this.uploads.set(id, { id, filename, totalSize, path, fd, chunks: new Map(), complete: false, finalizing: null });
    sendJson(res, 201, { status: true, upload_id: id, message: `Upload started for ${filename}` });
  }

  private async chunk(upload: Upload, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (upload.complete) throw new HttpError(409, 'Upload already complete');
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
    if (range === null) throw new HttpError(400, 'Missing or malformed Content-Range');
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (start > end || end >= total || total !== upload.totalSize) throw new HttpError(400, 'Invalid Content-Range');
    const size = end - start + 1;
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    const written = type.startsWith('multipart/form-data')
      ? await this.receiveMultipart(upload, req, start, end)
      : await this.receiveRaw(upload, req, start, end);
    if (written !== size) throw new HttpError(400, `Chunk size mismatch: got ${written} bytes, expected ${size}`);
    if (this.fsync) await fdatasyncAsync(upload.fd);
    const duplicate = upload.chunks.get(start) === size;
    upload.chunks.set(start, size);
    sendJson(
      res,
      200,
      duplicate
        ? { status: true, message: 'Duplicate chunk already uploaded; skipped', start, end, size, duplicate: true }
        : { status: true, message: 'Chunk uploaded', start, end, size },
    );
  }

  private async receiveRaw(upload: Upload, req: IncomingMessage, start: number, end: number): Promise<number> {
    const writer = new PositionalWriter(upload.fd, start, end);
    await pipeline(req, writer);
    return writer.written;
  }

  private receiveMultipart(upload: Upload, req: IncomingMessage, start: number, end: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const settle = (err: unknown, written = 0): void => {
        if (settled) return;
        settled = true;
        if (err) {
          req.unpipe(bb);
          reject(err instanceof Error ? err : new Error('the multipart body failed'));
        } else resolve(written);
      };
      let fileDone: Promise<number> | null = null;
      const bb = new Busboy({ headers: { ...req.headers, 'content-type': req.headers['content-type'] ?? '' }, limits: { files: 1, fields: 16 } });
      bb.on('file', (name, stream) => {
        if (name !== 'file' || fileDone !== null) {
          stream.resume();
          return;
        }
        const writer = new PositionalWriter(upload.fd, start, end);
        fileDone = pipeline(stream, writer).then(() => writer.written);
        fileDone.catch((err: unknown) => settle(err));
      });
      bb.on('finish', () => {
        if (fileDone === null) settle(new HttpError(400, 'No chunk file in the multipart body'));
        else
          fileDone.then(
            (n) => settle(null, n),
            (err: unknown) => settle(err),
          );
      });
      pipeline(req, bb).catch((err: unknown) => settle(err instanceof Error && !(err instanceof HttpError) ? new HttpError(400, err.message) : err));
    });
  }

  private async finalize(upload: Upload, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const done = { status: true, upload_id: upload.id, message: `Upload completed for ${upload.filename}` };
    if (upload.complete) {
      sendJson(res, 201, done);
      return;
    }
    const checksum = form.checksum;
    const algo = form.checksum_algo === undefined || form.checksum_algo === '' ? 'md5' : form.checksum_algo;
    if (typeof checksum !== 'string' || checksum.length === 0) throw new HttpError(400, 'Checksum required');
    if (typeof algo !== 'string' || !HASHES.has(algo.toLowerCase())) throw new HttpError(400, 'Unsupported checksum algorithm');
    if (upload.finalizing === null) {
      upload.finalizing = this.verify(upload, checksum.toLowerCase(), algo.toLowerCase()).finally(() => {
        upload.finalizing = null;
      });
    }
    const outcome = await upload.finalizing;
    if (!outcome.ok) throw new HttpError(outcome.status, outcome.message);
    sendJson(res, 201, done);
  }

  private async verify(upload: Upload, checksum: string, algo: string): Promise<FinalizeOutcome> {
    const starts = [...upload.chunks.keys()].sort((x, y) => x - y);
    let covered = 0;
    for (const s of starts) {
      if (s > covered) break;
      covered = Math.max(covered, s + (upload.chunks.get(s) ?? 0));
    }
    if (covered < upload.totalSize) return { ok: false, status: 400, message: 'Not all chunks uploaded' };
    const { digest } = await hashFile(upload.path, algo);
    if (digest !== checksum) return { ok: false, status: 400, message: 'Checksum mismatch' };
    upload.complete = true;
    upload.chunks.clear();
    await closeAsync(upload.fd);
    return { ok: true };
  }
}
