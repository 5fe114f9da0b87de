import { AddFragoNameClaims1764633600000 } from './add-frago-name-claims';
import { CHECKSUM_ALGO_MAX_LENGTH, WidenFragoChecksumAlgo1764637200000 } from './widen-frago-checksum-algo';
import { byteExactCollation, FragoByteExactKeys1764640800000 } from './frago-byte-exact-keys';
import { CreateFragoTusTable1764720000000 } from './create-frago-tus-table';
import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions, TableIndex } from 'typeorm';
import { dataSourceOf } from './data-source-of';

const bigint = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const varchar = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});

/** The table of the built-in `ChunkUpload` entity. */
const BUILT_IN_UPLOAD_TABLE = 'frago_upload';
const CHUNK_TABLE = 'frago_chunk';

/** The columns of `AbstractChunkUpload`, shared by the built-in table and a host's own upload table. */
function uploadColumns(checksumAlgoLength: number): TableColumnOptions[] {
  return [
    { ...varchar('upload_id', 36), isPrimary: true },
    varchar('filename', 255),
    bigint('total_size'),
    varchar('status', 16),
    bigint('created_at'),
    bigint('completed_at', true),
    bigint('expires_at'),
    bigint('finalizing_until', true),
    varchar('checksum', 256, true),
    varchar('checksum_algo', checksumAlgoLength, true),
    varchar('assembled_name', 1024, true),
  ];
}

async function createChunkTable(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.createTable(
    new Table({
      name: CHUNK_TABLE,
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

/** Index name the entity metadata expects (the DataSource's naming strategy, as for an unnamed `@Index()`). */
function entityIndexName(queryRunner: QueryRunner, table: string, columns: string[]): string {
  return dataSourceOf(queryRunner).namingStrategy.indexName(table, columns);
}

/**
 * Creates the tables of the built-in entities, `frago_upload` (ChunkUpload)
 * and `frago_chunk` (ChunkedUploadChunk), on PostgreSQL, MySQL/MariaDB and
 * SQLite. Part of {@link fragoMigrations}; spread that list into your
 * DataSource's `migrations` rather than naming this class.
 * @publicApi
 */
export class CreateFragoTables1732400000000 implements MigrationInterface {
  name = 'CreateFragoTables1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: BUILT_IN_UPLOAD_TABLE,
        columns: [...uploadColumns(32), varchar('identifier', 255, true)],
        indices: [
          { name: 'IDX_frago_upload_status', columnNames: ['status'] },
          { name: 'IDX_frago_upload_expires_at', columnNames: ['expires_at'] },
          { name: 'IDX_frago_upload_identifier', columnNames: ['identifier'] },
        ],
      }),
      true,
    );
    await createChunkTable(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(CHUNK_TABLE, true);
    await queryRunner.dropTable(BUILT_IN_UPLOAD_TABLE, true);
  }
}

/**
 * Renames the three `frago_upload` indexes of the first migration to the
 * names the entities' `@Index()` declarations get from TypeORM's naming
 * strategy, so that the schema built by the migrations and the one the
 * entities describe agree (no pending change in `migration:generate` or
 * `schema:log`). Part of {@link fragoMigrations}.
 * @publicApi
 */
export class NameFragoUploadIndexes1732500000000 implements MigrationInterface {
  name = 'NameFragoUploadIndexes1732500000000';

  private readonly renames: Array<[legacy: string, column: string]> = [
    ['IDX_frago_upload_status', 'status'],
    ['IDX_frago_upload_expires_at', 'expires_at'],
    ['IDX_frago_upload_identifier', 'identifier'],
  ];

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [legacy, column] of this.renames) {
      await this.replace(queryRunner, legacy, entityIndexName(queryRunner, BUILT_IN_UPLOAD_TABLE, [column]), column);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [legacy, column] of this.renames) {
      await this.replace(queryRunner, entityIndexName(queryRunner, BUILT_IN_UPLOAD_TABLE, [column]), legacy, column);
    }
  }

  private async replace(queryRunner: QueryRunner, from: string, to: string, column: string): Promise<void> {
    const table = await queryRunner.getTable(BUILT_IN_UPLOAD_TABLE);
    if (!table || !table.indices.some((index) => index.name === from)) return;
    await queryRunner.dropIndex(table, from);
    await queryRunner.createIndex(table, new TableIndex({ name: to, columnNames: [column] }));
  }
}

/** Every migration of the built-in entities (`frago_upload` and `frago_chunk`), in order. @publicApi */
export const fragoMigrations = [
  CreateFragoTables1732400000000,
  NameFragoUploadIndexes1732500000000,
  AddFragoNameClaims1764633600000,
  WidenFragoChecksumAlgo1764637200000,
  FragoByteExactKeys1764640800000,
  CreateFragoTusTable1764720000000,
];

/** Where {@link fragoMigrationsFor} creates frago's part of a host's own upload entity. @publicApi */
export interface FragoMigrationTarget {
  /** Table of the host's `uploadEntity` (its `@Entity()` name), e.g. `'device_upload'`. */
  uploadTable: string;
}

/** A migration class as TypeORM's `migrations` option takes it. @publicApi */
export type FragoMigrationClass = new () => MigrationInterface;

/**
 * frago's migrations for a host's own upload entity (a subclass of
 * `AbstractChunkUpload` passed as `uploadEntity`): they create the chunk
 * table and the upload table `uploadTable` with the columns and indexes of
 * `AbstractChunkUpload` (no `identifier` column, no `frago_upload` table),
 * then the later frago tables (`frago_name`) and byte-exact keys.
 * `checksum_algo` is created at its current width and `upload_id` byte-exact.
 * Your own migration, with a later timestamp, adds your entity's columns and
 * relations to that table (see the README's device example).
 * @publicApi
 */
export function fragoMigrationsFor(target: FragoMigrationTarget): FragoMigrationClass[] {
  const table = target.uploadTable;
  if (typeof table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new Error(
      `nestjs-frago: fragoMigrationsFor({ uploadTable }) expects a table name of letters, digits and underscores (received ${JSON.stringify(table)})`,
    );
  }
  if (table === BUILT_IN_UPLOAD_TABLE) return [...fragoMigrations];
  const create = `CreateFragoTables_${table}1732400000000`;
  class CreateFragoTablesFor implements MigrationInterface {
    name = create;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: uploadColumns(CHECKSUM_ALGO_MAX_LENGTH),
          indices: [
            { name: entityIndexName(queryRunner, table, ['status']), columnNames: ['status'] },
            { name: entityIndexName(queryRunner, table, ['expires_at']), columnNames: ['expires_at'] },
          ],
        }),
        true,
      );
      const type = dataSourceOf(queryRunner).options.type;
      if (type === 'mysql' || type === 'mariadb') {
        // Byte-exact ids, as FragoByteExactKeys1764640800000 gives the built-in tables.
        const collation = await byteExactCollation(queryRunner);
        await queryRunner.query(`ALTER TABLE \`${table}\` MODIFY \`upload_id\` varchar(36) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`);
      }
      await createChunkTable(queryRunner);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.dropTable(CHUNK_TABLE, true);
      await queryRunner.dropTable(table, true);
    }
  }
  Object.defineProperty(CreateFragoTablesFor, 'name', { value: create });
  return [CreateFragoTablesFor, AddFragoNameClaims1764633600000, FragoByteExactKeys1764640800000, CreateFragoTusTable1764720000000];
}
