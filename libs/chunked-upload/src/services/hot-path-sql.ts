import type { DataSource, Repository } from 'typeorm';
import type { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';

/** What hand-written SQL on the chunk table needs to know about the dialect and the names. */
export interface HotPathSql {
  chunkTable: string;
  chunkColumns: Record<'id' | 'uploadId' | 'start' | 'end' | 'size' | 'committed' | 'leaseUntil', string>;
  true: string;
  false: string;
  /** `FROM DUAL` where a SELECT without a table needs one (MySQL), else empty. */
  fromDual: string;
  /** `n` positional parameter markers: `$1…$n` on PostgreSQL, `?` elsewhere. */
  placeholders(n: number): string[];
}

/** Builds {@link HotPathSql} from the chunk entity's metadata (so a subclassed entity keeps working). */
export function hotPathSql(dataSource: DataSource, chunks: Repository<ChunkedUploadChunk>): HotPathSql {
  const driver = dataSource.driver;
  const metadata = chunks.metadata;
  const column = (property: string): string => {
    const found = metadata.findColumnWithPropertyName(property);
    if (!found) throw new Error(`The chunk entity has no "${property}" column`);
    return driver.escape(found.databaseName);
  };
  const type = dataSource.options.type;
  const postgres = type === 'postgres';
  const mysql = type === 'mysql' || type === 'mariadb';
  return {
    chunkTable: driver.escape(metadata.tablePath),
    chunkColumns: {
      id: column('id'),
      uploadId: column('uploadId'),
      start: column('start'),
      end: column('end'),
      size: column('size'),
      committed: column('committed'),
      leaseUntil: column('leaseUntil'),
    },
    true: postgres ? 'TRUE' : '1',
    false: postgres ? 'FALSE' : '0',
    fromDual: mysql ? 'FROM DUAL' : '',
    placeholders: (n) => Array.from({ length: n }, (_, i) => (postgres ? `$${i + 1}` : '?')),
  };
}

/** A reservation to insert if its range is free. */
export interface ReservationRow {
  id: string;
  uploadId: string;
  start: number;
  end: number;
  leaseUntil: number;
}

/**
 * The reservation INSERT: the row goes in unless the chunk with the greatest
 * start <= END (the only one that can overlap, as rows never overlap one
 * another) ends at or after START. Both lookups use the (upload, start)
 * index: a MIN/MAX seek, then an equality seek. Placeholders appear in
 * numeric order (MySQL and SQLite bind `?` by position).
 */
export function reservationSql(sql: HotPathSql, row: ReservationRow): { query: string; params: unknown[] } {
  const t = sql.chunkTable;
  const c = sql.chunkColumns;
  const p = sql.placeholders(10);
  const query =
    `INSERT INTO ${t} (${c.id}, ${c.uploadId}, ${c.start}, ${c.end}, ${c.size}, ${c.committed}, ${c.leaseUntil}) ` +
    `SELECT ${p[0]}, ${p[1]}, ${p[2]}, ${p[3]}, ${p[4]}, ${sql.false}, ${p[5]} ${sql.fromDual} WHERE NOT EXISTS (` +
    `SELECT 1 FROM ${t} WHERE ${c.uploadId} = ${p[6]} AND ${c.start} = (` +
    `SELECT MAX(${c.start}) FROM ${t} WHERE ${c.uploadId} = ${p[7]} AND ${c.start} <= ${p[8]}) AND ${c.end} >= ${p[9]})`;
  const params = [row.id, row.uploadId, row.start, row.end, row.end - row.start + 1, row.leaseUntil, row.uploadId, row.uploadId, row.end, row.start];
  return { query, params };
}

/** The per-chunk statements on one reservation row, by its id; each touches the row only while it is uncommitted. */
export interface ReservationStatements {
  /** Makes the reservation count: `[id]`. */
  commit: string;
  /** Extends its lease: `[leaseUntil, id]`. */
  renew: string;
  /** Drops it: `[id]`. */
  release: string;
}

/**
 * Hand-written, so the hot path builds no query per chunk; the statements a
 * TypeORM `update()`/`delete()` with the same conditions would send.
 */
export function reservationStatements(sql: HotPathSql): ReservationStatements {
  const t = sql.chunkTable;
  const c = sql.chunkColumns;
  const [p1, p2] = sql.placeholders(2);
  const uncommitted = `${c.committed} = ${sql.false}`;
  return {
    commit: `UPDATE ${t} SET ${c.committed} = ${sql.true}, ${c.leaseUntil} = NULL WHERE ${c.id} = ${p1} AND ${uncommitted}`,
    renew: `UPDATE ${t} SET ${c.leaseUntil} = ${p1} WHERE ${c.id} = ${p2} AND ${uncommitted}`,
    release: `DELETE FROM ${t} WHERE ${c.id} = ${p1} AND ${uncommitted}`,
  };
}
