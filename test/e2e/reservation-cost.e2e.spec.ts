/**
 * The cost of reserving a chunk's range must not grow with the
 * number of chunks the upload already has. Measured deterministically by the
 * database itself, not by time: rows PostgreSQL's executor touched (EXPLAIN
 * ANALYZE), MariaDB's handler reads (session status), SQLite's query plan.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChunkedUploadChunk } from 'nestjs-frago';
import { hotPathSql, reservationSql } from 'nestjs-frago/dist/services/hot-path-sql';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { startOk } from '../helpers/upload-client';

const CHUNKS = 20_000;
/** Rows one reservation may look at, whatever the chunk count (a few index seeks). */
const BOUND = 12;

interface PlanNode {
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows produced or filtered out by every node of a PostgreSQL plan. */
function rowsTouched(node: PlanNode): number {
  const own = (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0);
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child), 0);
}

for (const kind of databaseKinds()) {
  describe(`reservation cost on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let dataSource: DataSource;
    let uploadId: string;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db });
      dataSource = t.app.get(DataSource);
      uploadId = await startOk(t.uploadUrl, 'many-chunks.bin', CHUNKS * 2);
      const chunks = dataSource.getRepository(ChunkedUploadChunk);
      for (let first = 0; first < CHUNKS; first += 500) {
        const rows = Array.from({ length: Math.min(500, CHUNKS - first) }, (_, i) => {
          const start = first + i;
          return { id: randomUUID(), uploadId, start, end: start, size: 1, committed: true, leaseUntil: null };
        });
        await chunks.insert(rows);
      }
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    /** The reservation statement for the one-byte range `[start, start]`. */
    function reservation(start: number): { query: string; params: unknown[] } {
      const sql = hotPathSql(dataSource, dataSource.getRepository(ChunkedUploadChunk));
      return reservationSql(sql, { id: randomUUID(), uploadId, start, end: start, leaseUntil: Date.now() + 60_000 });
    }

    it(`a reservation after ${CHUNKS} one-byte chunks looks at a bounded number of rows (appending, overlapping the last, and in the middle)`, async () => {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      try {
        for (const [start, free] of [
          [CHUNKS, true],
          [CHUNKS - 1, false],
          [CHUNKS / 2, false],
        ] as const) {
          const { query, params } = reservation(start);
          await runner.startTransaction();
          try {
            let touched = 0;
            if (kind === 'postgres') {
              const rows = (await runner.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`, params)) as Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
              touched = rowsTouched(rows[0]['QUERY PLAN'][0].Plan);
              assert.ok(touched <= BOUND, `start ${start}: ${touched} rows touched: ${JSON.stringify(rows[0]['QUERY PLAN'])}`);
            } else if (kind === 'mysql') {
              const reads = async (): Promise<number> => {
                const rows = (await runner.query("SHOW SESSION STATUS LIKE 'Handler_read%'")) as Array<{ Variable_name: string; Value: string }>;
                return rows.filter((row) => row.Variable_name !== 'Handler_read_rnd_next').reduce((sum, row) => sum + Number(row.Value), 0);
              };
              const before = await reads();
              await runner.query(query, params);
              touched = (await reads()) - before;
              assert.ok(touched <= BOUND, `start ${start}: ${touched} handler reads`);
            } else {
              const plan = (await runner.query(`EXPLAIN QUERY PLAN ${query}`, params)) as Array<{ detail: string }>;
              const details = plan.map((row) => row.detail);
              assert.ok(
                details.every((detail) => !/\bSCAN\b/.test(detail) || detail === 'SCAN CONSTANT ROW') &&
                  details.some((detail) => /range_start=\?/.test(detail)),
                `start ${start}: ${JSON.stringify(details)}`,
              );
              await runner.query(query, params);
            }
            console.log(`${kind}: reservation at ${start} after ${CHUNKS} chunks: ${kind === 'sqlite' ? 'index seeks only' : `${touched} rows/handler reads`}`);
            const mine = (await runner.query(`SELECT COUNT(*) AS n FROM frago_chunk WHERE id = ${kind === 'postgres' ? '$1' : '?'}`, [params[0]])) as Array<{
              n: unknown;
            }>;
            assert.equal(Number(mine[0].n) === 1, free, `start ${start} is ${free ? 'free' : 'taken'}`);
          } finally {
            await runner.rollbackTransaction();
          }
        }
      } finally {
        await runner.release();
      }
    });
  });
}
