import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { dataSourceOf } from './data-source-of';

/** Longest `checksum_algo` stored (and accepted at finalize); node:crypto's longest name has 34 characters. */
export const CHECKSUM_ALGO_MAX_LENGTH = 64;

/**
 * Widens `frago_upload.checksum_algo` from 32 to 64 characters, so that every
 * algorithm node:crypto supports (e.g. `id-rsassa-pkcs1-v1_5-with-sha3-256`)
 * can be recorded. Hosts with their own upload entity widen their column too.
 * @publicApi
 */
export class WidenFragoChecksumAlgo1764637200000 implements MigrationInterface {
  name = 'WidenFragoChecksumAlgo1764637200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.resize(queryRunner, CHECKSUM_ALGO_MAX_LENGTH);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.resize(queryRunner, 32);
  }

  private async resize(queryRunner: QueryRunner, length: number): Promise<void> {
    const table = await queryRunner.getTable('frago_upload');
    const column = table?.findColumnByName('checksum_algo');
    if (!table || !column) return;
    if (dataSourceOf(queryRunner).options.type === 'postgres') {
      await queryRunner.query(`ALTER TABLE "frago_upload" ALTER COLUMN "checksum_algo" TYPE varchar(${length})`);
      return;
    }
    if (dataSourceOf(queryRunner).options.type === 'mysql' || dataSourceOf(queryRunner).options.type === 'mariadb') {
      await queryRunner.query(`ALTER TABLE \`frago_upload\` MODIFY \`checksum_algo\` varchar(${length}) NULL`);
      return;
    }
    // SQLite does not enforce the length, but keep the declared schema in step (TypeORM rebuilds the table).
    await queryRunner.changeColumn(table, column, new TableColumn({ name: 'checksum_algo', type: 'varchar', length: String(length), isNullable: true }));
  }
}
