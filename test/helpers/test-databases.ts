import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import type { DataSourceOptions } from 'typeorm';

/** A database kind the suite runs on. */
export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql';

/** A fresh database created for one test file, dropped by `drop()`. */
export interface TestDatabase {
  kind: DatabaseKind;
  /** A URL the example app understands (`DATABASE_URL`). */
  url: string;
  /** TypeORM connection options (no entities, no migrations). */
  options: DataSourceOptions;
  drop(): Promise<void>;
}

/** SQLite always; PostgreSQL and MariaDB/MySQL when TEST_POSTGRES_URL / TEST_MYSQL_URL are set. */
export function databaseKinds(): DatabaseKind[] {
  const kinds: DatabaseKind[] = ['sqlite'];
  if (process.env.TEST_POSTGRES_URL) kinds.push('postgres');
  if (process.env.TEST_MYSQL_URL) kinds.push('mysql');
  return kinds;
}

function uniqueName(): string {
  return `frago_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates an empty database of `kind` for this test file. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'frago-db-'));
    const path = join(dir, 'test.sqlite');
    return {
      kind,
      url: `sqlite:${path}`,
      options: { type: 'better-sqlite3', database: path, enableWAL: true, timeout: 15_000 },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = uniqueName();
  if (kind === 'postgres') {
    const server = process.env.TEST_POSTGRES_URL as string;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = withDatabase(server, name);
    return {
      kind,
      url,
      options: { type: 'postgres', url, extra: { max: 5 } },
      drop: async () => {
        const client = new Client({ connectionString: server });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const server = process.env.TEST_MYSQL_URL as string;
  const admin = await createConnection(server);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const url = withDatabase(server, name);
  return {
    kind,
    url,
    options: { type: 'mysql', url, supportBigNumbers: true, bigNumberStrings: true, extra: { connectionLimit: 5 } },
    drop: async () => {
      const client = await createConnection(server);
      await client.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await client.end();
    },
  };
}
