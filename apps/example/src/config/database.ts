import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { fragoMigrations } from 'nestjs-frago';
import { InvalidEnvironmentError } from './env';

/** A short, password-free description of the database, for the start-up log line. */
export function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) return `SQLite ${resolve(url.slice('sqlite:'.length))}`;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol.replace(':', '')} ${parsed.hostname}:${parsed.port || 'default'}${parsed.pathname}`;
  } catch {
    return 'database';
  }
}

/** Driver error codes of a database that is missing or refuses the credentials: retrying cannot help. */
const PERMANENT_CODES = new Set(['3D000', '28P01', '28000', 'ER_BAD_DB_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR']);

/** Whether TypeOrmModule should retry the connection after this error (a server still starting, yes; a missing database, no). */
export function isTransient(error: unknown): boolean {
  return !PERMANENT_CODES.has(String((error as { code?: unknown } | null | undefined)?.code));
}

/** One line telling why the app did not start and, for the usual database mistakes, how to fix it. */
export function describeStartupError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown } | null | undefined)?.code);
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
    return `${message}. Create it first (PostgreSQL: createdb NAME or CREATE DATABASE NAME; MySQL/MariaDB: CREATE DATABASE NAME), or point DATABASE_URL at an existing database.`;
  }
  if (PERMANENT_CODES.has(code)) return `${message}. Check the user and password in DATABASE_URL.`;
  return message;
}

/**
 * DATABASE_URL → TypeORM options: `sqlite:PATH`, `postgres://…` or
 * `mysql://…`/`mariadb://…`. The schema comes from migrations, run at start
 * under a database lock (`runMigrationsLocked`), not by TypeORM's `migrationsRun`.
 * `poolSize` caps this instance's connections: with several instances on one
 * server, keep instances × poolSize below its connection limit (PostgreSQL: 100).
 */
export function typeOrmOptions(url: string, poolSize = 20): TypeOrmModuleOptions {
  const common = {
    toRetry: isTransient,
    autoLoadEntities: true,
    synchronize: false,
    migrationsRun: false,
    migrations: fragoMigrations,
    logging: false,
  } as const;
  if (url.startsWith('sqlite:')) {
    const path = resolve(url.slice('sqlite:'.length));
    mkdirSync(dirname(path), { recursive: true });
    return { ...common, type: 'better-sqlite3', database: path, enableWAL: true, timeout: 15_000 };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { ...common, type: 'postgres', url, extra: { max: poolSize } };
  if (/^(mysql|mariadb):\/\//.test(url)) {
    return {
      ...common,
      type: 'mysql',
      url: url.replace(/^mariadb:/, 'mysql:'),
      bigNumberStrings: true,
      supportBigNumbers: true,
      extra: { connectionLimit: poolSize },
    };
  }
  throw new InvalidEnvironmentError('DATABASE_URL', url, 'expected sqlite:PATH, postgres://… or mysql://…');
}
