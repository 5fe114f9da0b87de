import 'reflect-metadata';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ChunkedUploadChunk, ChunkUpload, FragoNameClaim, FragoTusUpload, fragoMigrations, fragoMigrationsFor } from 'nestjs-frago';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { Device } from '../fixtures/device/device.entity';
import { DeviceUpload } from '../fixtures/device/device-upload.entity';
import { CreateDevices1733000000000 } from '../fixtures/device/device.migration';

/** Runs the migrations on a fresh database, then returns what TypeORM would still change to match the entities. */
async function pendingAfterMigrations(
  db: TestDatabase,
  entities: NonNullable<DataSourceOptions['entities']>,
  migrations: NonNullable<DataSourceOptions['migrations']>,
): Promise<{ pending: string[]; dataSource: DataSource }> {
  const dataSource = new DataSource({ ...db.options, entities, migrations, migrationsRun: false, synchronize: false, logging: false });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  const log = await dataSource.driver.createSchemaBuilder().log();
  const pending: string[] = [];
  for (const { query } of log.upQueries) if (!(await isMariaDbNullDefaultEcho(dataSource, query))) pending.push(query);
  return { pending, dataSource };
}

/**
 * TypeORM's `type: 'mysql'` driver reads MariaDB's `COLUMN_DEFAULT = 'NULL'`
 * of a nullable column as a default and proposes to re-declare the column
 * unchanged (`CHANGE \`c\` \`c\` varchar(32) NULL`). Only such a statement,
 * whose type is exactly the column's current type on a nullable column
 * without a default, is left out: any real difference still counts.
 */
async function isMariaDbNullDefaultEcho(dataSource: DataSource, query: string): Promise<boolean> {
  if (dataSource.options.type !== 'mysql') return false;
  const match = /^ALTER TABLE `(\w+)` CHANGE `(\w+)` `\2` (.+) NULL$/.exec(query);
  if (!match) return false;
  const [, table, column, type] = match;
  const rows: Array<{ COLUMN_TYPE: string; IS_NULLABLE: string; COLUMN_DEFAULT: string | null }> = await dataSource.query(
    'SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
    [table, column],
  );
  const current = rows[0];
  return (
    !!current &&
    current.COLUMN_TYPE.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1') === type &&
    current.IS_NULLABLE === 'YES' &&
    (current.COLUMN_DEFAULT === null || current.COLUMN_DEFAULT === 'NULL')
  );
}

for (const kind of databaseKinds()) {
  describe(`migrations and entities agree on ${kind}`, () => {
    const databases: TestDatabase[] = [];
    const sources: DataSource[] = [];
    const fresh = async (): Promise<TestDatabase> => {
      const db = await createTestDatabase(kind);
      databases.push(db);
      return db;
    };
    after(async () => {
      for (const source of sources) if (source.isInitialized) await source.destroy();
      for (const db of databases) await db.drop();
    });

    it('fragoMigrations build exactly the schema of ChunkUpload and ChunkedUploadChunk', async () => {
      const { pending, dataSource } = await pendingAfterMigrations(
        await fresh(),
        [ChunkUpload, ChunkedUploadChunk, FragoNameClaim, FragoTusUpload],
        fragoMigrations,
      );
      sources.push(dataSource);
      assert.deepEqual(pending, []);
    });

    it('fragoMigrations revert to an empty schema', async () => {
      const { dataSource } = await pendingAfterMigrations(await fresh(), [ChunkUpload, ChunkedUploadChunk, FragoNameClaim, FragoTusUpload], fragoMigrations);
      sources.push(dataSource);
      for (let i = 0; i < fragoMigrations.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      const runner = dataSource.createQueryRunner();
      try {
        assert.equal(await runner.hasTable('frago_upload'), false);
        assert.equal(await runner.hasTable('frago_chunk'), false);
        assert.equal(await runner.hasTable('frago_name'), false);
      } finally {
        await runner.release();
      }
    });

    it("fragoMigrationsFor({ uploadTable }) plus the host's migration build exactly the device example's schema, and no frago_upload table", async () => {
      const migrations = [...fragoMigrationsFor({ uploadTable: 'device_upload' }), CreateDevices1733000000000];
      const { pending, dataSource } = await pendingAfterMigrations(await fresh(), [Device, DeviceUpload, ChunkedUploadChunk, FragoNameClaim], migrations);
      sources.push(dataSource);
      assert.deepEqual(pending, []);
      const runner = dataSource.createQueryRunner();
      try {
        assert.equal(await runner.hasTable('frago_upload'), false);
      } finally {
        await runner.release();
      }
    });
  });
}
