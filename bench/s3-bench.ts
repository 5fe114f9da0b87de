/**
 * The S3 rows of `npm run bench`, run when BENCH_S3_ENDPOINT is
 * set (`scripts/ceph.sh start` prints a Ceph RGW's): the example app on S3 against a bare-SDK
 * multipart upload of the same file (same part size and parallelism) in the same run, plus one
 * streamed GET of the app's object to compare finalize with.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  UploadPartCommand,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createS3Client } from 'nestjs-frago/s3';
import { loadavg } from 'node:os';
import { findProfile, renderProfile, summarizeProfile } from './profile';
import { GiB, MiB, RSS_LIMIT_MB } from './scenario';
import { MB, median } from './results';
import { REPO_ROOT, startApp } from './servers';
import type { TestFile } from './test-file';
import { upload } from './uploader';

interface S3Scenario {
  label: string;
  fileSize: number;
  chunkSize: number;
  parallel: number;
  /** The uploader sends each chunk's Content-MD5 (the app then streams chunks straight to S3); false: the app spools each chunk to compute it. */
  chunkMd5: boolean;
  /** The issue's targets that this row is measured against. */
  targets: Array<'endToEnd' | 'finalize' | 'rss'>;
}

/** app / SDK end to end at least this; finalize / one GET at most this; peak RSS at most RSS_LIMIT_MB. */
const END_TO_END_MIN = 0.8;
const FINALIZE_MAX = 1.1;

const FULL: S3Scenario[] = [
  { label: '1 GiB / 8 MiB ×4', fileSize: GiB, chunkSize: 8 * MiB, parallel: 4, chunkMd5: true, targets: ['endToEnd', 'finalize', 'rss'] },
  { label: '1 GiB / 8 MiB ×4, no Content-MD5', fileSize: GiB, chunkSize: 8 * MiB, parallel: 4, chunkMd5: false, targets: [] },
  { label: '32 MiB / 1 MiB ×8', fileSize: 32 * MiB, chunkSize: MiB, parallel: 8, chunkMd5: true, targets: ['rss'] },
  { label: '512 MiB / 64 MiB ×8', fileSize: 512 * MiB, chunkSize: 64 * MiB, parallel: 8, chunkMd5: true, targets: ['rss'] },
];
const QUICK: S3Scenario[] = [
  { label: '64 MiB / 8 MiB ×4', fileSize: 64 * MiB, chunkSize: 8 * MiB, parallel: 4, chunkMd5: true, targets: ['endToEnd', 'finalize', 'rss'] },
  { label: '8 MiB / 1 MiB ×8', fileSize: 8 * MiB, chunkSize: MiB, parallel: 8, chunkMd5: false, targets: ['rss'] },
];

export interface S3BenchContext {
  tmpDir: string;
  runs: number;
  quick: boolean;
  /** Profile the app of each row (node --cpu-prof) into this folder and print its top functions. */
  cpuProfDir: string | null;
  testFile(size: number): TestFile;
  log(message: string): void;
}

/** The endpoint of a config made by s3BenchConfig (a URL string). */
function endpointOf(config: S3ClientConfig): string {
  return typeof config.endpoint === 'string' ? config.endpoint : '(endpoint)';
}

/** The S3 engine to measure, from the environment; null when none is configured. */
export function s3BenchConfig(env = process.env): S3ClientConfig | null {
  // Only BENCH_S3_*: the test suite's TEST_S3_* must not turn S3 rows on in the bench's smoke test.
  const endpoint = env.BENCH_S3_ENDPOINT;
  if (!endpoint) return null;
  const accessKeyId = env.BENCH_S3_ACCESS_KEY || '';
  const secretAccessKey = env.BENCH_S3_SECRET_KEY || '';
  return { endpoint, region: env.BENCH_S3_REGION || 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } };
}

interface Row {
  label: string;
  sdkMBps: number;
  appMBps: number;
  finalizeSeconds: number;
  getSeconds: number;
  appPeakRss: number | null;
  /** 1-min load average at the row's end. */
  load: number;
  targets: S3Scenario['targets'];
}

/**
 * Bare SDK: CreateMultipartUpload, parts of `chunkSize` read into buffers, `parallel` at once,
 * Complete. S3 refuses parts below 5 MiB (but the last), so smaller chunk sizes use 5 MiB parts.
 */
async function sdkUpload(client: S3Client, bucket: string, key: string, file: TestFile, scenario: S3Scenario): Promise<number> {
  const partSize = Math.max(scenario.chunkSize, 5 * MiB);
  const handle = await open(file.path, 'r');
  const t0 = process.hrtime.bigint();
  try {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const count = Math.ceil(file.size / partSize);
    const parts = Array.from({ length: count }, (): { PartNumber: number; ETag?: string } => ({ PartNumber: 0 }));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const start = index * partSize;
        const length = Math.min(partSize, file.size - start);
        const buffer = Buffer.allocUnsafe(length);
        await handle.read(buffer, 0, length, start);
        const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: buffer }));
        parts[index] = { PartNumber: index + 1, ETag };
      }
    };
    await Promise.all(Array.from({ length: Math.min(scenario.parallel, count) }, worker));
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } finally {
    await handle.close();
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** One streamed GET of `key`, every byte consumed (not kept); resolves with seconds and size. */
async function streamedGet(client: S3Client, bucket: string, key: string): Promise<{ seconds: number; size: number }> {
  const t0 = process.hrtime.bigint();
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let size = 0;
  for await (const data of response.Body as Readable) size += (data as Buffer).length;
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, size };
}

async function runScenario(config: S3ClientConfig, client: S3Client, bucket: string, scenario: S3Scenario, ctx: S3BenchContext): Promise<Row> {
  const file = ctx.testFile(scenario.fileSize);
  const credentials = config.credentials as { accessKeyId: string; secretAccessKey: string };
  const app = await startApp({
    name: 'app (sqlite, s3)',
    dataDir: join(ctx.tmpDir, `s3-${scenario.chunkSize}-${scenario.chunkMd5 ? 'md5' : 'spool'}`),
    databaseUrl: `sqlite:${join(ctx.tmpDir, `s3-${scenario.chunkSize}-${scenario.chunkMd5 ? 'md5' : 'spool'}.sqlite`)}`,
    cpuProfDir: ctx.cpuProfDir,
    env: {
      FRAGO_STORAGE: 's3',
      FRAGO_S3_BUCKET: bucket,
      FRAGO_S3_PREFIX: 'bench/',
      AWS_ENDPOINT_URL_S3: endpointOf(config),
      AWS_REGION: String(config.region),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      TMPDIR: ctx.tmpDir,
    },
  });
  const sdk: number[] = [];
  const appTotal: number[] = [];
  const finalize: number[] = [];
  const get: number[] = [];
  try {
    for (let run = 1; run <= ctx.runs; run++) {
      const sdkKey = `sdk/${randomBytes(6).toString('hex')}.bin`;
      sdk.push(await sdkUpload(client, bucket, sdkKey, file, scenario));
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: sdkKey }));
      const name = `s3-bench-${run}-${randomBytes(4).toString('hex')}.bin`;
      const timings = await upload({
        apiBase: app.apiBase,
        filePath: file.path,
        fileSize: file.size,
        md5: file.md5,
        filename: name,
        chunkSize: scenario.chunkSize,
        parallel: scenario.parallel,
        body: 'raw',
        chunkMd5: scenario.chunkMd5,
      });
      const read = await streamedGet(client, bucket, `bench/${name}`);
      if (read.size !== file.size) throw new Error(`s3 bench: bench/${name} holds ${read.size} bytes, expected ${file.size}`);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `bench/${name}` }));
      appTotal.push(timings.totalSeconds);
      finalize.push(timings.finalizeSeconds);
      get.push(read.seconds);
      ctx.log(
        `  s3 ${scenario.label} run ${run}/${ctx.runs}: bare SDK ${(file.size / MB / sdk[sdk.length - 1]).toFixed(1)} MB/s, ` +
          `app end-to-end ${(file.size / MB / timings.totalSeconds).toFixed(1)} MB/s, finalize ${timings.finalizeSeconds.toFixed(3)} s, GET ${read.seconds.toFixed(3)} s`,
      );
    }
    return {
      label: scenario.label,
      sdkMBps: file.size / MB / median(sdk),
      appMBps: file.size / MB / median(appTotal),
      finalizeSeconds: median(finalize),
      getSeconds: median(get),
      appPeakRss: app.process.peakRssBytes(),
      load: loadavg()[0],
      targets: scenario.targets,
    };
  } finally {
    await app.process.stop();
    if (ctx.cpuProfDir !== null) {
      const profile = findProfile(ctx.cpuProfDir, app.process.pid);
      if (profile !== null) process.stdout.write(`\n${renderProfile(`CPU profile of the app, s3 ${scenario.label}`, summarizeProfile(profile, REPO_ROOT))}\n`);
    }
  }
}

/** Runs the S3 rows and returns the table to print. */
export async function runS3Bench(config: S3ClientConfig, ctx: S3BenchContext): Promise<string> {
  const client = createS3Client(config);
  const bucket = `frago-bench-${Date.now().toString(36)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  ctx.log(`S3 rows on ${endpointOf(config)}, bucket ${bucket}`);
  const rows: Row[] = [];
  try {
    for (const scenario of ctx.quick ? QUICK : FULL) rows.push(await runScenario(config, client, bucket, scenario, ctx));
  } finally {
    client.destroy();
  }
  const lines = [
    `S3 (${endpointOf(config)}; median of ${ctx.runs}; MB = 10^6 bytes; app = example app on S3 incl. finalize; SDK = bare multipart, same part size (at least 5 MiB) and parallelism)`,
    '| scenario | bare SDK MB/s | app end-to-end MB/s | app / SDK | app finalize s | one streamed GET s | finalize / GET | app peak RSS MB | load |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.sdkMBps.toFixed(1)} | ${r.appMBps.toFixed(1)} | ${(r.appMBps / r.sdkMBps).toFixed(2)} | ${r.finalizeSeconds.toFixed(3)} | ${r.getSeconds.toFixed(3)} | ${(r.finalizeSeconds / r.getSeconds).toFixed(2)} | ${r.appPeakRss === null ? '?' : (r.appPeakRss / MB).toFixed(0)} | ${r.load.toFixed(2)} |`,
    ),
    s3TargetSummary(rows),
  ];
  return lines.join('\n');
}

/** `targets: n of m met` for the S3 rows, naming each one missed. */
export function s3TargetSummary(rows: Row[]): string {
  const missed: string[] = [];
  let total = 0;
  for (const r of rows) {
    for (const target of r.targets) {
      total++;
      if (target === 'endToEnd' && !(r.appMBps / r.sdkMBps >= END_TO_END_MIN))
        missed.push(`${r.label}: app / SDK end to end ${(r.appMBps / r.sdkMBps).toFixed(2)} < ${END_TO_END_MIN}`);
      if (target === 'finalize' && !(r.finalizeSeconds / r.getSeconds <= FINALIZE_MAX))
        missed.push(`${r.label}: finalize / GET ${(r.finalizeSeconds / r.getSeconds).toFixed(2)} > ${FINALIZE_MAX}`);
      if (target === 'rss' && !(r.appPeakRss !== null && r.appPeakRss / MB <= RSS_LIMIT_MB))
        missed.push(`${r.label}: app peak RSS ${r.appPeakRss === null ? '?' : (r.appPeakRss / MB).toFixed(0)} MB > ${RSS_LIMIT_MB} MB`);
    }
  }
  if (missed.length === 0) return `S3 targets: all ${total} met`;
  return `S3 targets: ${total - missed.length} of ${total} met; missed:\n${missed.map((m) => `  - ${m}`).join('\n')}`;
}
