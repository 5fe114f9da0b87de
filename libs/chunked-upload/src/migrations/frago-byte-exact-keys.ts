import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dataSourceOf } from './data-source-of';

/** Key columns compared in WHERE clauses: table → column → `NULL`/`NOT NULL` and length. */
const KEY_COLUMNS: Record<string, Array<{ column: string; length: number; nullable: boolean }>> = {
  frago_upload: [
    { column: 'upload_id', length: 36, nullable: false },
    { column: 'identifier', length: 255, nullable: true },
  ],
  frago_chunk: [
    { column: 'id', length: 36, nullable: false },
    { column: 'upload_id', length: 36, nullable: false },
  ],
  frago_name: [
    { column: 'name_key', length: 64, nullable: false },
    { column: 'upload_id', length: 36, nullable: false },
  ],
};

/** Binary, NO PAD collations, best first: MariaDB's, then MySQL 8's. */
const BYTE_EXACT_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'];

/**
 * Makes identifiers and ids compare byte for byte on MySQL/MariaDB, whose
 * default collations ignore case, accents and trailing spaces (`ALICE`,
 * `alicé` and `alice ` would be `alice`'s owner). PostgreSQL's and SQLite's
 * default comparisons are already byte-exact; there this is a no-op.
 * A host's own upload entity gives its identifier column the same collation.
 * @publicApi
 */
export class FragoByteExactKeys1764640800000 implements MigrationInterface {
  name = 'FragoByteExactKeys1764640800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const type = dataSourceOf(queryRunner).options.type;
    if (type !== 'mysql' && type !== 'mariadb') return;
    const collation = await byteExactCollation(queryRunner);
    await this.alter(queryRunner, `CHARACTER SET utf8mb4 COLLATE ${collation}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const type = dataSourceOf(queryRunner).options.type;
    if (type !== 'mysql' && type !== 'mariadb') return;
    await this.alter(queryRunner, 'CHARACTER SET utf8mb4');
  }

  private async alter(queryRunner: QueryRunner, charset: string): Promise<void> {
    for (const [table, columns] of Object.entries(KEY_COLUMNS)) {
      const existing = await queryRunner.getTable(table);
      if (!existing) continue;
      const changes = columns
        .filter(({ column }) => existing.findColumnByName(column))
        .map(({ column, length, nullable }) => `MODIFY \`${column}\` varchar(${length}) ${charset} ${nullable ? 'NULL' : 'NOT NULL'}`);
      if (changes.length > 0) await queryRunner.query(`ALTER TABLE \`${table}\` ${changes.join(', ')}`);
    }
  }
}

/** The first byte-exact collation the server has, else `utf8mb4_bin` (which still pads trailing spaces). */
export async function byteExactCollation(queryRunner: QueryRunner): Promise<string> {
  const rows = (await queryRunner.query(
    `SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (${BYTE_EXACT_COLLATIONS.map(() => '?').join(', ')})`,
    BYTE_EXACT_COLLATIONS,
  )) as Array<{ name: string }>;
  const available = new Set(rows.map((row) => row.name));
  return BYTE_EXACT_COLLATIONS.find((name) => available.has(name)) ?? 'utf8mb4_bin';
}

/** True for a collation that compares bytes and does not pad (as `byteExactCollation` picks). */
export function isByteExactCollation(name: string | null | undefined): boolean {
  return name === 'binary' || BYTE_EXACT_COLLATIONS.includes(name ?? '');
}
