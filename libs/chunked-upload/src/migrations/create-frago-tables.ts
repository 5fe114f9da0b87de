import { AddFragoNameClaims1764633600000 } from './add-frago-name-claims';
import { WidenFragoChecksumAlgo1764637200000 } from './widen-frago-checksum-algo';
import { FragoByteExactKeys1764640800000 } from './frago-byte-exact-keys';
import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions } from 'typeorm';

const bigint = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const varchar = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });

/**
 * Creates the tables of the built-in entities, `frago_upload` (ChunkUpload)
 * and `frago_chunk` (ChunkedUploadChunk), on PostgreSQL, MySQL/MariaDB and
 * SQLite. Add it to your DataSource's `migrations` (or spread
 * `fragoMigrations`). A host with its own upload entity writes its own
 * migration for that table (the chunk table is still this one).
 * @publicApi
 */
export class CreateFragoTables1732400000000 implements MigrationInterface {
  name = 'CreateFragoTables1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'frago_upload',
        columns: [
          { ...varchar('upload_id', 36), isPrimary: true },
          varchar('filename', 255),
          bigint('total_size'),
          varchar('status', 16),
          bigint('created_at'),
          bigint('completed_at', true),
          bigint('expires_at'),
          bigint('finalizing_until', true),
          varchar('checksum', 256, true),
          varchar('checksum_algo', 32, true),
          varchar('assembled_name', 1024, true),
          varchar('identifier', 255, true),
        ],
        indices: [
          { name: 'IDX_frago_upload_status', columnNames: ['status'] },
          { name: 'IDX_frago_upload_expires_at', columnNames: ['expires_at'] },
          { name: 'IDX_frago_upload_identifier', columnNames: ['identifier'] },
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'frago_chunk',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('upload_id', 36),
          bigint('range_start'),
          bigint('range_end'),
          bigint('size'),
          { name: 'committed', type: 'boolean' },
          bigint('lease_until', true),
        ],
        indices: [{ name: 'UQ_frago_chunk_upload_start', columnNames: ['upload_id', 'range_start'], isUnique: true }],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('frago_chunk', true);
    await queryRunner.dropTable('frago_upload', true);
  }
}

/** Every migration of the built-in entities, in order. @publicApi */
export const fragoMigrations = [CreateFragoTables1732400000000, AddFragoNameClaims1764633600000, WidenFragoChecksumAlgo1764637200000, FragoByteExactKeys1764640800000];
