/**
 * A fresh database per app process: a file for SQLite, or a database the bench
 * CREATEs and DROPs itself on the local PostgreSQL / MySQL server.
 */
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import type { DbKind } from './args';
import { onInterrupt } from './children';

/** Server URL (ending in '/') under which databases are created: the environment's, or the default. */
function adminUrl(variable: string, fallback: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  return value.endsWith('/') ? value : `${value}/`;
}

export const POSTGRES_ADMIN_URL = adminUrl('BENCH_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/');
export const MYSQL_ADMIN_URL = adminUrl('BENCH_MYSQL_URL', 'mysql://root@127.0.0.1:3306/');

/** What the app did in its database, from the server's own counters (PostgreSQL only). */
export interface DbActivity {
  commits: number;
  rollbacks: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
}

export interface BenchDatabase {
  kind: DbKind;
  /** The DATABASE_URL handed to the app. */
  url: string;
  /** Counters since the database was created; read once the app has disconnected (its stats are flushed at exit). */
  activity(): Promise<DbActivity | null>;
  drop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
let counter = 0;

function uniqueName(): string {
  counter++;
  return `frago_bench_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

async function withPostgres<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: `${POSTGRES_ADMIN_URL}postgres`, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withMysql<T>(fn: (run: (sql: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const connection = await createConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: CONNECT_TIMEOUT_MS });
  try {
    return await fn((sql) => connection.query(sql));
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Null when the server answers; otherwise why not. */
export async function unreachableReason(kind: DbKind): Promise<string | null> {
  try {
    if (kind === 'postgres') await withPostgres((c) => c.query('SELECT 1'));
    else if (kind === 'mysql') await withMysql((run) => run('SELECT 1'));
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  }
}

export async function createDatabase(kind: DbKind, tmpDir: string): Promise<BenchDatabase> {
  if (kind === 'sqlite') {
    // Each app process gets its own file in the bench's temporary folder (removed with it).
    const file = join(tmpDir, `${uniqueName()}.sqlite`);
    return { kind, url: `sqlite:${file}`, activity: () => Promise.resolve(null), drop: () => Promise.resolve() };
  }
  const name = uniqueName();
  let drop: () => Promise<void>;
  if (kind === 'postgres') {
    await withPostgres((c) => c.query(`CREATE DATABASE ${name}`));
    drop = () => withPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  } else {
    await withMysql((run) => run(`CREATE DATABASE \`${name}\``));
    drop = () => withMysql((run) => run(`DROP DATABASE IF EXISTS \`${name}\``)).then(() => undefined);
  }
  const unregister = onInterrupt(drop);
  const url = kind === 'postgres' ? `${POSTGRES_ADMIN_URL}${name}` : `${MYSQL_ADMIN_URL}${name}`;
  return {
    kind,
    url,
    activity: () => (kind === 'postgres' ? postgresActivity(name) : Promise.resolve(null)),
    drop: async () => {
      unregister();
      await drop();
    },
  };
}

async function postgresActivity(name: string): Promise<DbActivity | null> {
  // Backends flush their counters when they exit; give the last ones a moment.
  await new Promise((r) => setTimeout(r, 500));
  return withPostgres(async (c) => {
    const { rows } = await c.query('SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1', [
      name,
    ]);
    const row = rows.at(0);
    if (row === undefined) return null;
    return {
      commits: Number(row.xact_commit),
      rollbacks: Number(row.xact_rollback),
      rowsInserted: Number(row.tup_inserted),
      rowsUpdated: Number(row.tup_updated),
      rowsDeleted: Number(row.tup_deleted),
    };
  });
}
