/**
 * What both chaos specs share: the seed and knobs from the environment, the example app
 * process each describe starts on its database, the checks every answer passes, and the
 * property runner that names how to reproduce a failure.
 */
import { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AppProcesses, REPO_ROOT, type AppProcess } from '../../helpers/app-process';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/test-databases';
import type { RawOutcome } from '../../helpers/raw-http';
import { MAX_CHUNK, type ChaosRequest } from './chaos-bytes';
import { TWIN_BOUND } from './chaos-concurrent';

export const FACTOR = Number(process.env.FRAGO_CHAOS_RUNS ?? '1') || 1;
const SEED = process.env.FRAGO_CHAOS_SEED ? Number(process.env.FRAGO_CHAOS_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.FRAGO_CHAOS_PATH;
export const ONLY = process.env.FRAGO_CHAOS_FAMILY;
/** A family stops early (and passes with the runs done) past this much time, so a loaded machine stays bounded. */
const FAMILY_TIME_LIMIT_MS = 40_000;

const SERVER_PATHS = [REPO_ROOT, tmpdir(), '/node_modules/', 'node:internal'];

function parse(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The checks every answer passes; returns the parsed body. */
export function checkAnswer(outcome: RawOutcome, request: ChaosRequest, dataDir: string): Record<string, unknown> | null {
  const what = `${request.label ? `${request.label}: ` : ''}${request.raw.method} ${request.raw.path.slice(0, 120)}`;
  if (!outcome.answer) {
    const refusedByNode = request.expect.protocolLevel && !outcome.fullySent;
    assert.ok(
      request.expect.mayGoUnanswered || refusedByNode,
      `${what}: no answer (${outcome.error}) to a request that was ${outcome.fullySent ? 'sent whole' : 'cut by the server while sending'}`,
    );
    return null;
  }
  const { status, headers, body } = outcome.answer;
  const shown = `${what}: ${status} ${body.slice(0, 300)}`;
  const code = parse(body)?.code;
  const retryLater = typeof code === 'string' && (request.expect.retryLater ?? []).includes(code);
  assert.ok(status < 500, `${shown}: a server error`);
  if (retryLater) assert.match(headers['retry-after'] ?? '', /^\d+$/, `${shown}: asked to retry without Retry-After`);
  assert.ok(!/\bat \S+ \(|\n\s+at /.test(body), `${shown}: stack trace in the answer`);
  for (const path of [...SERVER_PATHS, dataDir]) assert.ok(!body.includes(path), `${shown}: server path ${path} in the answer`);
  assert.ok(request.expect.statuses.includes(status), `${shown}: expected one of ${summarise(request.expect.statuses)}`);
  const parsed = parse(body);
  const key = request.raw.method === 'PUT' ? 'error' : 'message';
  const fragoShape = parsed !== null && parsed.status === false && typeof parsed.code === 'string' && typeof parsed[key] === 'string';
  if (status >= 400) {
    if (!fragoShape) {
      assert.ok(request.expect.protocolLevel && [400, 413, 414, 431].includes(status), `${shown}: not frago's body {status:false, code, ${key}}`);
    } else {
      if (request.expect.code) assert.equal(parsed.code, request.expect.code, shown);
      assert.equal(headers['x-content-type-options'], 'nosniff', `${shown}: JSON answer without X-Content-Type-Options: nosniff`);
    }
  }
  return parsed;
}

/** `fetch failed` and its cause (e.g. `UND_ERR_SOCKET other side closed`). */
export function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return `${String(error)}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`;
}

function summarise(statuses: number[]): string {
  return statuses.length > 10 ? `${statuses[0]}–${statuses[statuses.length - 1]}` : statuses.join(', ');
}

/** Runs one property with the suite's seed; a failure names how to reproduce it. */
export async function runProperty<T>(
  family: string,
  kind: string,
  arbitrary: fc.Arbitrary<T>,
  runs: number,
  check: (value: T) => Promise<void>,
  diagnostic: (text: string) => void,
): Promise<void> {
  let done = 0;
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        done++;
        await check(value);
      }),
      {
        numRuns: Math.max(1, Math.round(runs * FACTOR)),
        seed: SEED,
        path: PATH,
        endOnFailure: true,
        plugins: [fc.interruptAfterTimeLimit(FAMILY_TIME_LIMIT_MS * FACTOR, { failOnInterrupt: false })],
      },
    );
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(
      `chaos family "${family}" failed on ${kind}; reproduce with FRAGO_CHAOS_SEED=${SEED} FRAGO_CHAOS_FAMILY=${family} (and the path below as FRAGO_CHAOS_PATH) npm test -- chaos\n` +
        `${(error as Error).message}\nFailure: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause: error },
    );
  }
  diagnostic(`${family} on ${kind}: ${done} cases in ${Date.now() - started} ms (seed ${SEED})`);
}

/** The example app process of one describe, on its own database and data folder. */
export interface ChaosApp {
  readonly kind: string;
  readonly db: TestDatabase;
  readonly app: AppProcess;
  readonly dataDir: string;
  /** A number for the next case's file name. */
  nextCase(): number;
}

/** Starts the app in `before`, again before a test when the previous one killed it, and stops it in `after`. */
export function useChaosApp(kind: DatabaseKind): ChaosApp {
  const apps = new AppProcesses();
  let db: TestDatabase;
  let app: AppProcess;
  let root: string;
  let dataDir: string;
  let cases = 0;

  const startApp = async (): Promise<AppProcess> =>
    apps.start({
      cwd: root,
      env: {
        DATABASE_URL: db.url,
        FRAGO_DATA_DIR: dataDir,
        FRAGO_MAX_CHUNK_SIZE: String(MAX_CHUNK),
        FRAGO_CHUNK_LEASE_MS: '5000',
        FRAGO_FSYNC: 'false',
        FRAGO_MAX_WAITING_TWINS: String(TWIN_BOUND),
      },
    });

  before(async () => {
    db = await createTestDatabase(kind);
    root = mkdtempSync(join(tmpdir(), 'frago-chaos-'));
    dataDir = join(root, 'data');
    app = await startApp();
  });
  // A family that killed the app has failed already (and stopAll() reports it again): the next one gets a fresh process.
  beforeEach(async () => {
    if (!app.running()) app = await startApp();
  });
  after(async () => {
    try {
      await apps.stopAll();
    } finally {
      await db?.drop();
      if (root) rmSync(root, { recursive: true, force: true });
    }
  });
  return {
    kind,
    get db() {
      return db;
    },
    get app() {
      return app;
    },
    get dataDir() {
      return dataDir;
    },
    nextCase: () => ++cases,
  };
}
