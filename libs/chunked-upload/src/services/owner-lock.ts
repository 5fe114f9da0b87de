import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { QuotaExceededError } from '../errors/frago.errors';

const LOCK_WAIT_SECONDS = 10;

/**
 * Runs `work` in a transaction while holding a database lock named after
 * `key`, so that callers with the same key run one at a time on every
 * instance sharing the database (correct across instances): a transaction-scoped advisory
 * lock on PostgreSQL, a named lock (`GET_LOCK`) on MySQL/MariaDB, held until
 * after commit. SQLite is single-instance and its caller already serialises
 * every statement in process; other databases get the transaction only.
 */
export async function withNamedLock<T>(dataSource: DataSource, key: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const name = `frago:${createHash('sha1').update(key).digest('hex')}`;
  const type = dataSource.options.type;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let heldNamedLock = false;
  try {
    if (type === 'mysql' || type === 'mariadb') {
      const rows = (await runner.query('SELECT GET_LOCK(?, ?) AS got', [name, LOCK_WAIT_SECONDS])) as Array<{ got: unknown }>;
      if (Number(rows[0]?.got) !== 1) throw new QuotaExceededError('Too many uploads are being started at once; retry');
      heldNamedLock = true;
    }
    await runner.startTransaction();
    try {
      if (type === 'postgres') await runner.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    if (heldNamedLock) await runner.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
    await runner.release();
  }
}
