import type { DataSource } from 'typeorm';

/** Key of the lock instances take around their migrations (PostgreSQL advisory lock, MySQL named lock). */
const LOCK_KEY = 'frago_example_migrations';
/** How long an instance waits for another one's migrations before it gives up (seconds). */
const LOCK_WAIT_SECONDS = 300;

/**
 * Runs the pending migrations while holding a database-wide lock, so
 * instances that start at the same moment migrate one after the other
 * instead of racing the same CREATE TABLE / DROP INDEX (which fails one of
 * them). The lock is a session lock on one connection of the pool; SQLite
 * serialises writers by itself.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const type = dataSource.options.type;
  if (type !== 'postgres' && type !== 'mysql' && type !== 'mariadb') {
    await dataSource.runMigrations();
    return;
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    if (type === 'postgres') {
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
    } else {
      const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS locked', [LOCK_KEY, LOCK_WAIT_SECONDS])) as Array<
        { locked: number | string | null } | undefined
      >;
      if (Number(row?.locked) !== 1) throw new Error(`Could not take the migration lock within ${LOCK_WAIT_SECONDS} s (another instance is migrating)`);
    }
    try {
      await dataSource.runMigrations();
    } finally {
      if (type === 'postgres') await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY]);
      else await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
