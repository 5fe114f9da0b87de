import type { DataSource, QueryRunner } from 'typeorm';

/** The query runner's DataSource: `dataSource` on TypeORM 1, `connection` on TypeORM 0.3 (deprecated in 1.0). */
export function dataSourceOf(queryRunner: QueryRunner): DataSource {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- TypeORM 0.3 (the NestJS 11 line) has only `connection`
  return (queryRunner as { dataSource?: DataSource }).dataSource ?? queryRunner.connection;
}
