import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { dataSourceOf } from './data-source-of';

/**
 * Creates `frago_tus_upload` (entity `FragoTusUpload`), the tus facts of an
 * upload (metadata, deferred length, concatenation), used when `tusPath` is set.
 * @publicApi
 */
export class CreateFragoTusTable1764720000000 implements MigrationInterface {
  name = 'CreateFragoTusTable1764720000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'frago_tus_upload',
        columns: [
          { name: 'upload_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'metadata', type: 'varchar', length: '4096', isNullable: true },
          { name: 'length_deferred', type: 'boolean' },
          { name: 'concat', type: 'varchar', length: '8', isNullable: true },
          { name: 'parts', type: 'text', isNullable: true },
          { name: 'final_id', type: 'varchar', length: '36', isNullable: true },
        ],
        indices: [{ name: dataSourceOf(queryRunner).namingStrategy.indexName('frago_tus_upload', ['final_id']), columnNames: ['final_id'] }],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('frago_tus_upload', true);
  }
}
