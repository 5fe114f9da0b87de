/**
 * The bench's own lean uploader: start, N chunks in flight streamed from the file,
 * finalize with the md5. Any failure throws (a failed upload fails the bench).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Agent } from 'node:http';
import { exchange, jsonRequestBody, keepAliveAgent, parseJsonObject } from './http-request';
import { multipartBody, newBoundary, rawBody } from './multipart-body';
import type { BodyMode } from './scenario';

export interface UploadPlan {
  /** API root, e.g. http://127.0.0.1:3000/api */
  apiBase: string;
  filePath: string;
  fileSize: number;
  md5: string;
  /** Name announced at start. */
  filename: string;
  chunkSize: number;
  parallel: number;
  body: BodyMode;
  /**
   * Send each chunk's `Content-MD5`, as a client does that hashes its chunks
   * while reading them. Computed before the clock starts: the bench times the
   * server, not the client's hashing.
   */
  chunkMd5?: boolean;
}

export interface UploadTimings {
  uploadId: string;
  chunks: number;
  /** Start request sent → last chunk acknowledged. */
  transferSeconds: number;
  /** Finalize request sent → 201 received. */
  finalizeSeconds: number;
  /** Start request sent → finalize answered. */
  totalSeconds: number;
}

/** How many times a finalize answered 409 "being finalized" is retried. */
const FINALIZE_RETRIES = 20;

function seconds(fromNs: bigint, toNs: bigint): number {
  return Number(toNs - fromNs) / 1e9;
}

async function startUpload(agent: Agent, apiBase: string, filename: string, totalSize: number): Promise<string> {
  const { headers, body } = jsonRequestBody({ filename, total_size: totalSize });
  const res = await exchange(agent, new URL(`${apiBase}/upload/`), 'POST', headers, body);
  const json = parseJsonObject(res, 'start');
  if (res.status !== 201 || json.status !== true || typeof json.upload_id !== 'string') {
    throw new Error(`start: expected 201 with an upload_id, got HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return json.upload_id;
}

/** Base64 MD5 of every chunk of the file, in order. */
function chunkDigests(fd: number, fileSize: number, chunkSize: number): string[] {
  const digests: string[] = [];
  const buffer = Buffer.allocUnsafe(Math.min(chunkSize, 4 * 1024 * 1024));
  for (let start = 0; start < fileSize; start += chunkSize) {
    const hash = createHash('md5');
    const end = Math.min(start + chunkSize, fileSize);
    for (let at = start; at < end;) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
      hash.update(buffer.subarray(0, read));
      at += read;
    }
    digests.push(hash.digest('base64'));
  }
  return digests;
}

async function putChunk(agent: Agent, url: URL, plan: UploadPlan, fd: number, boundary: string, start: number, end: number, md5?: string): Promise<void> {
  const body = plan.body === 'raw' ? rawBody(fd, start, end) : multipartBody(fd, start, end, boundary, plan.filename);
  const headers: Record<string, string | number> = {
    'content-type': body.contentType,
    'content-length': body.length,
    'content-range': `bytes ${start}-${end}/${plan.fileSize}`,
  };
  if (md5 !== undefined) headers['content-md5'] = md5;
  const res = await exchange(agent, url, 'PUT', headers, body);
  if (res.status !== 200) {
    throw new Error(`chunk ${start}-${end}: expected 200, got HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  const json = parseJsonObject(res, `chunk ${start}-${end}`);
  if (json.status !== true || json.start !== start || json.end !== end) {
    throw new Error(`chunk ${start}-${end}: unexpected answer ${res.body.slice(0, 300)}`);
  }
}

async function finalize(agent: Agent, url: URL, md5: string): Promise<void> {
  const { headers, body } = jsonRequestBody({ checksum: md5, checksum_algo: 'md5' });
  for (let attempt = 0; attempt <= FINALIZE_RETRIES; attempt++) {
    const res = await exchange(agent, url, 'POST', headers, body);
    if (res.status === 201) {
      const json = parseJsonObject(res, 'finalize');
      if (json.status !== true) throw new Error(`finalize: 201 without status true: ${res.body.slice(0, 300)}`);
      return;
    }
    if (res.status !== 409) throw new Error(`finalize: expected 201, got HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`finalize: still 409 after ${FINALIZE_RETRIES} retries`);
}

/** Uploads the file; aborting `signal` cuts every connection, so the upload rejects promptly. */
export async function upload(plan: UploadPlan, signal?: AbortSignal): Promise<UploadTimings> {
  if (signal?.aborted === true) throw new Error('upload aborted before it started');
  const agent = keepAliveAgent(plan.parallel);
  const cutConnections = (): void => agent.destroy();
  signal?.addEventListener('abort', cutConnections, { once: true });
  const fd = openSync(plan.filePath, 'r');
  try {
    const chunkCount = Math.ceil(plan.fileSize / plan.chunkSize);
    const digests = plan.chunkMd5 === true ? chunkDigests(fd, plan.fileSize, plan.chunkSize) : [];
    const t0 = process.hrtime.bigint();
    const uploadId = await startUpload(agent, plan.apiBase, plan.filename, plan.fileSize);
    const chunkUrl = new URL(`${plan.apiBase}/upload/${uploadId}/`);
    const boundary = newBoundary();
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < chunkCount) {
        const index = next++;
        const start = index * plan.chunkSize;
        const end = Math.min(start + plan.chunkSize, plan.fileSize) - 1;
        try {
          await putChunk(agent, chunkUrl, plan, fd, boundary, start, end, digests[index]);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const workers = Array.from({ length: Math.min(plan.parallel, chunkCount) }, () => worker());
    const outcomes = await Promise.allSettled(workers);
    const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    const t1 = process.hrtime.bigint();
    await finalize(agent, chunkUrl, plan.md5);
    const t2 = process.hrtime.bigint();
    return {
      uploadId,
      chunks: chunkCount,
      transferSeconds: seconds(t0, t1),
      finalizeSeconds: seconds(t1, t2),
      totalSeconds: seconds(t0, t2),
    };
  } finally {
    signal?.removeEventListener('abort', cutConnections);
    closeSync(fd);
    agent.destroy();
  }
}
