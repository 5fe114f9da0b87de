/**
 * Reads the module's tables directly (a second connection, as an operator
 * would), so tests can compare what the API says with what the rows say.
 */
import { DataSource } from 'typeorm';
import type { TestDatabase } from '../../helpers/test-databases';

/** A chunk row as stored. */
export interface ChunkRow {
  start: number;
  end: number;
  size: number;
  committed: boolean;
}

/** A direct connection to a test database. */
export class DbProbe {
  private constructor(
    private readonly dataSource: DataSource,
    private readonly postgres: boolean,
  ) {}

  static async open(db: TestDatabase): Promise<DbProbe> {
    // One connection, opened now and kept: a probe must not compete with the apps for connection slots later.
    const pool = db.kind === 'postgres' ? { max: 1, idleTimeoutMillis: 0 } : { connectionLimit: 1 };
    const dataSource = new DataSource({ ...db.options, entities: [], migrations: [], logging: false, extra: pool });
    await dataSource.initialize();
    await dataSource.query('SELECT 1');
    return new DbProbe(dataSource, db.kind === 'postgres');
  }

  /** Runs `text` with `?` placeholders on any of the three databases. */
  query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    let n = 0;
    const sql = this.postgres ? text.replace(/\?/g, () => `$${++n}`) : text;
    return this.dataSource.query<T[]>(sql, params);
  }

  /** Every chunk row of one upload, by start. */
  async chunks(uploadId: string): Promise<ChunkRow[]> {
    const rows = await this.query('SELECT range_start, range_end, size, committed FROM frago_chunk WHERE upload_id = ? ORDER BY range_start', [uploadId]);
    return rows.map((row) => ({
      start: Number(row.range_start),
      end: Number(row.range_end),
      size: Number(row.size),
      committed: row.committed === true || Number(row.committed) === 1,
    }));
  }

  /** The upload's stored status, or null when there is no row. */
  async uploadStatus(uploadId: string): Promise<string | null> {
    const rows = await this.query<{ status: string }>('SELECT status FROM frago_upload WHERE upload_id = ?', [uploadId]);
    return rows[0]?.status ?? null;
  }

  close(): Promise<void> {
    return this.dataSource.isInitialized ? this.dataSource.destroy() : Promise.resolve();
  }
}
