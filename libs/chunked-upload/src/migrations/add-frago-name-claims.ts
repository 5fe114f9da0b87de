import { createHash } from 'node:crypto';
import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { dataSourceOf } from './data-source-of';

/**
 * Adds `frago_name` (FragoNameClaim): the published names, claimed in the
 * database before a file or object is published, so that no two uploads
 * publish under one name on any storage. Names of uploads already complete
 * are claimed for them.
 * @publicApi
 */
export class AddFragoNameClaims1764633600000 implements MigrationInterface {
  name = 'AddFragoNameClaims1764633600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'frago_name',
        columns: [
          { name: 'name_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '1024' },
          { name: 'upload_id', type: 'varchar', length: '36' },
          { name: 'claimed_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_frago_name_upload_id', columnNames: ['upload_id'] }],
      }),
      true,
    );
    if (!(await queryRunner.hasTable('frago_upload'))) return;
    const uploads = dataSourceOf(queryRunner).driver.escape('frago_upload');
    const rows = (await queryRunner.query(`SELECT upload_id, assembled_name FROM ${uploads} WHERE assembled_name IS NOT NULL`)) as Array<{
      upload_id: string;
      assembled_name: string;
    }>;
    const seen = new Set<string>();
    const now = Date.now();
    for (const row of rows) {
      const key = nameKey(row.assembled_name);
      if (seen.has(key)) continue;
      seen.add(key);
      await queryRunner.manager
        .createQueryBuilder()
        .insert()
        .into('frago_name', ['name_key', 'name', 'upload_id', 'claimed_at'])
        .values({ name_key: key, name: row.assembled_name, upload_id: row.upload_id, claimed_at: now })
        .orIgnore()
        .execute();
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('frago_name', true);
  }
}

/** The claim key of a published name: SHA-256 (hex) of its UTF-8 bytes. */
export function nameKey(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}
