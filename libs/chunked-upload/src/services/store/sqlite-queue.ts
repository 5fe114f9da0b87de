import { DataSource, type EntityManager } from 'typeorm';

const SQLITE_DRIVERS = ['sqlite', 'better-sqlite3', 'capacitor', 'expo', 'react-native', 'nativescript', 'sqljs'];

/**
 * How the store's statements reach the database. On SQLite, whose TypeORM
 * driver shares one connection, operations run one at a time in process, so
 * that no statement runs inside another request's transaction; elsewhere they
 * run directly. Transactions the database chose as deadlock victims are run
 * again.
 */
export class SqliteQueue {
  readonly sqlite: boolean;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {
    this.sqlite = SQLITE_DRIVERS.includes(dataSource.options.type);
  }

  /** Runs `work` alone on SQLite; directly elsewhere. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.sqlite) return work();
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `work` in one transaction, alone on SQLite, repeated when chosen as a deadlock victim. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.exclusive(() => retryOnDeadlock(() => this.dataSource.transaction(work)));
  }
}

const DEADLOCK_RETRIES = 4;

/**
 * Runs `work` again when the database chose it as a deadlock victim (MySQL/
 * MariaDB ER_LOCK_DEADLOCK, whose gap locks on the chunk index can cross
 * uploads; PostgreSQL 40P01): the victim's transaction was rolled back whole,
 * so repeating it is safe.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const driver =
        (error as { driverError?: { code?: unknown; errno?: unknown } } | null)?.driverError ?? (error as { code?: unknown; errno?: unknown } | null);
      const deadlock = driver?.code === 'ER_LOCK_DEADLOCK' || driver?.errno === 1213 || driver?.code === '40P01';
      if (!deadlock || attempt >= DEADLOCK_RETRIES) throw error;
    }
  }
}
