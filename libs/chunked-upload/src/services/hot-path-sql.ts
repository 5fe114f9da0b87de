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
