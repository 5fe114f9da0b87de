import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { FragoEventLog } from '../helpers/frago-event-log';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';

for (const kind of databaseKinds()) {
  describe(`concurrency on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let counter: FragoEventLog;

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, providers: [FragoEventLog] });
      counter = t.app.get(FragoEventLog);
    });
    after(async () => {
      await t?.close();
      await db?.drop();
    });

    it('parallel out-of-order chunks of odd sizes assemble to the same bytes (md5 and sha256)', async () => {
      for (const algo of ['md5', 'sha256']) {
        const data = testBytes(3 * 1024 * 1024 + 12345, algo.length);
        const id = await startOk(t.uploadUrl, `odd-${algo}.bin`, data.length);
        const ranges = chunkRanges(data.length, 131_071).reverse();
        const results = await Promise.all(
          ranges.map(({ start, end }, i) => putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: i % 2 === 0 })),
        );
        assert.deepEqual(
          results.map((r) => r.status),
          ranges.map(() => 200),
        );
        const done = await finalize(t.uploadUrl, id, { checksum: digest(data, algo), checksum_algo: algo });
        assert.equal(done.status, 201, JSON.stringify(done.body));
        assert.deepEqual(readFileSync(join(t.assembledDir, `odd-${algo}.bin`)), data);
      }
    });

    it('twin chunks sent together record one and all answer 200', async () => {
      const data = testBytes(200_000, 7);
      const id = await startOk(t.uploadUrl, 'twins.bin', data.length);
      const before = counter.count(counter.chunks, id);
      const twins = await Promise.all(Array.from({ length: 16 }, () => putChunk(t.uploadUrl, id, data.subarray(0, 100_000), 0, data.length)));
      assert.deepEqual(
        twins.map((r) => r.status),
        Array(16).fill(200),
      );
      assert.equal(twins.filter((r) => r.body.duplicate !== true).length, 1, 'exactly one recorded');
      assert.equal(counter.count(counter.chunks, id) - before, 1, 'chunk.received once');
      const status = await getStatus(t.uploadUrl, id);
      assert.deepEqual(status.body.chunks, [{ start: 0, end: 99_999, size: 100_000 }]);
    });

    it('32 concurrent finalizes: one assembly, one upload.completed, every answer 201 or a retryable 409', async () => {
      const data = testBytes(2 * 1024 * 1024, 3);
      const id = await startOk(t.uploadUrl, 'race.bin', data.length);
      for (const { start, end } of chunkRanges(data.length, 512 * 1024)) {
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length)).status, 200);
      }
      const answers = await Promise.all(Array.from({ length: 32 }, () => finalize(t.uploadUrl, id, { checksum: digest(data) })));
      for (const answer of answers) {
        assert.ok(answer.status === 201 || (answer.status === 409 && answer.body.message === 'Upload is being finalized'), JSON.stringify(answer.body));
      }
      assert.ok(answers.some((a) => a.status === 201));
      assert.equal(counter.count(counter.completed, id), 1);
      assert.deepEqual(readFileSync(join(t.assembledDir, 'race.bin')), data);
      const again = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(again.status, 201);
    });
  });
}
