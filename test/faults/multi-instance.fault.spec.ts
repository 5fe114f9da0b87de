/**
 * Three app processes share one database and one data
 * folder. Chunks of several uploads are sprayed round-robin over them (some
 * sent to two instances at once), then 32 finalize requests per upload hit
 * all three together. Exactly one assembly per upload, `upload.completed`
 * logged exactly once across the processes, every answer a 201 or the
 * retryable 409, and the files are byte-exact.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, getStatus, putChunk, startOk, testBytes, type JsonResponse } from '../helpers/upload-client';
import { HOST_APP_MAIN, type AppProcess } from '../helpers/app-process';
import type { DbProbe } from './support/db-probe';
import { ProcessFleet } from './support/process-fleet';
import { listFiles } from './support/files';

const UPLOADS = 4;
const CHUNK = 96 * 1024;
const FINALIZERS = 32;

/** Runs `tasks` with at most `limit` at a time. */
async function pooled<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

/** Finalize, retrying the documented 409 until 201; returns every answer seen. */
async function finalizeUntilDone(url: string, id: string, checksum: string): Promise<JsonResponse[]> {
  const answers: JsonResponse[] = [];
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await finalize(url, id, { checksum });
    answers.push(answer);
    if (answer.status !== 409 || answer.body.message !== 'Upload is being finalized') return answers;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return answers;
}

const serverKinds = databaseKinds().filter((k) => k !== 'sqlite');

if (serverKinds.length === 0) {
  void it.skip('several instances need a shared server database: set TEST_POSTGRES_URL and/or TEST_MYSQL_URL (SQLite is single-instance)');
}

for (const kind of serverKinds) {
  describe(`three instances on one ${kind} database and one data folder`, () => {
    const fleet = new ProcessFleet(kind, 'frago-multi-');
    let probe: DbProbe;
    let instances: AppProcess[];

    before(async () => {
      // Three pools of 8 leave room on a server with the default 100 connections for the rest of the suite.
      // All three boot at once on the fresh database, as in a rolling deploy.
      ({ instances, probe } = await fleet.start(3, { main: HOST_APP_MAIN, env: { DATABASE_POOL_SIZE: '8' }, together: true }));
    });

    it('sprayed chunks and 32 finalizes per upload: one assembly, upload.completed once, 201 or retryable 409', async () => {
      const files = Array.from({ length: UPLOADS }, (_, u) => ({ name: `multi-${u}.bin`, data: testBytes(15 * CHUNK + 777 * (u + 1), 100 + u) }));
      const ids = await Promise.all(files.map((file, u) => startOk(instances[u % 3].uploadUrl, file.name, file.data.length)));

      const tasks: Array<() => Promise<JsonResponse>> = [];
      files.forEach((file, u) => {
        chunkRanges(file.data.length, CHUNK).forEach(({ start, end }, i) => {
          const bytes = file.data.subarray(start, end);
          const put = (instance: AppProcess): Promise<JsonResponse> =>
            putChunk(instance.uploadUrl, ids[u], bytes, start, file.data.length, { multipart: i % 2 === 0 });
          tasks.push(() => put(instances[(u + i) % 3]));
          // Every fourth chunk also goes to the next instance at the same moment: twins across processes.
          if (i % 4 === 0) tasks.push(() => put(instances[(u + i + 1) % 3]));
        });
      });
      const chunkAnswers = await pooled(tasks, 12);
      for (const answer of chunkAnswers) assert.equal(answer.status, 200, JSON.stringify(answer.body));

      for (const [u, file] of files.entries()) {
        const status = await getStatus(instances[(u + 1) % 3].uploadUrl, ids[u]);
        assert.equal(status.body.received_bytes, file.data.length);
        assert.deepEqual(status.body.missing, []);
      }

      const finals = await Promise.all(
        files.flatMap((file, u) =>
          Array.from({ length: FINALIZERS }, (_, n) =>
            finalizeUntilDone(instances[n % 3].uploadUrl, ids[u], digest(file.data)).then((answers) => ({ u, answers })),
          ),
        ),
      );
      for (const { u, answers } of finals) {
        for (const answer of answers.slice(0, -1)) {
          assert.deepEqual([answer.status, answer.body], [409, { status: false, code: 'FINALIZE_IN_PROGRESS', message: 'Upload is being finalized' }]);
        }
        const last = answers[answers.length - 1];
        assert.equal(last.status, 201, JSON.stringify(last.body));
        assert.deepEqual(last.body, { status: true, upload_id: ids[u], message: `Upload completed for ${files[u].name}` });
      }

      const logged = await probe.query<{ upload_id: string; pid: number }>('SELECT upload_id, pid FROM frago_event_log');
      for (const id of ids) assert.equal(logged.filter((row) => row.upload_id === id).length, 1, `upload.completed of ${id} logged once`);
      assert.deepEqual(listFiles(join(fleet.dataDir, 'assembled_uploads')), files.map((file) => file.name).sort(), 'one assembly each, no numbered copies');
      for (const file of files) assert.deepEqual(readFileSync(join(fleet.dataDir, 'assembled_uploads', file.name)), file.data);
      assert.deepEqual(listFiles(join(fleet.dataDir, 'chunked_uploads')), []);
      for (const id of ids) assert.deepEqual(await probe.chunks(id), []);
    });
  });
}
