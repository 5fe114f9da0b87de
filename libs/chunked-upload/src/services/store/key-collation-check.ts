import { Logger } from '@nestjs/common';
import type { DataSource, Repository } from 'typeorm';
import type { AbstractChunkUpload } from '../../entities/abstract-chunk-upload.entity';
import type { ChunkedUploadChunk } from '../../entities/chunked-upload-chunk.entity';
import { isByteExactCollation } from '../../migrations/frago-byte-exact-keys';

/**
 * On MySQL/MariaDB, warns when a key column compares ignoring case, accents
 * or trailing spaces (a schema made by `synchronize`, or before
 * `FragoByteExactKeys1764640800000`): owners would then see each other's uploads.
 */
export async function warnOnLooseKeyCollations(
  dataSource: DataSource,
  uploads: Repository<AbstractChunkUpload>,
  chunks: Repository<ChunkedUploadChunk>,
): Promise<void> {
  const type = dataSource.options.type;
  if (type !== 'mysql' && type !== 'mariadb') return;
  const keys = [
    ...uploads.metadata.columns
      .filter((column) => column.isPrimary || column.propertyName === 'identifier')
      .map((column) => [uploads.metadata.tableName, column.databaseName]),
    [chunks.metadata.tableName, chunks.metadata.findColumnWithPropertyName('uploadId')?.databaseName ?? 'upload_id'],
  ];
  const loose: string[] = [];
  for (const [table, column] of keys) {
    // At most one row; none when the column does not exist (yet).
    const rows = await dataSource.query<Array<{ collation: string | null } | undefined>>(
      'SELECT COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [table, column],
    );
    const collation = rows[0]?.collation;
    if (collation && !isByteExactCollation(collation)) loose.push(`${table}.${column} (${collation})`);
  }
  if (loose.length > 0) {
    new Logger('nestjs-frago').warn(
      `These key columns compare ignoring case, accents or trailing spaces, so distinct identifiers can match: ${loose.join(', ')}. ` +
        'Run fragoMigrations (FragoByteExactKeys1764640800000), or give them a binary NO PAD collation (utf8mb4_nopad_bin on MariaDB, utf8mb4_0900_bin on MySQL 8).',
    );
  }
}
