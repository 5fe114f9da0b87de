/**
 * 50 uploads of 40 chunks each, all at once, against
 * one in-process instance on PostgreSQL (or the first database available).
 * Every chunk and finalize succeeds and every file is byte-exact. No timing
 * assertions: speed belongs to the benchmark.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestApp, withTestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { chunkRanges, digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { listFiles } from './support/files';

const UPLOADS = 50;
const CHUNKS = 40;
const CHUNK = 16 * 1024;
const PER_UPLOAD_PARALLEL = 4;
const kind = databaseKinds().includes('postgres') ? 'postgres' : databaseKinds()[0];

describe(`load: ${UPLOADS} concurrent uploads of ${CHUNKS} chunks (${kind})`, () => {
  let t: TestApp;

  withTestApp(kind, {}, (app) => {
    t = app;
  });

  it('completes every upload with the exact bytes and no error answer', async () => {
    const files = Array.from({ length: UPLOADS }, (_, u) => ({ name: `load-${u}.bin`, data: testBytes(CHUNKS * CHUNK - u, 1000 + u) }));
    const failures: string[] = [];
    await Promise.all(
      files.map(async ({ name, data }) => {
        const id = await startOk(t.uploadUrl, name, data.length);
        const ranges = chunkRanges(data.length, CHUNK);
        assert.equal(ranges.length, CHUNKS);
        let next = 0;
        await Promise.all(
          Array.from({ length: PER_UPLOAD_PARALLEL }, async () => {
            while (next < ranges.length) {
              const { start, end } = ranges[next++];
              const answer = await putChunk(t.uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: start % 3 === 0 });
              if (answer.status !== 200 || answer.body.duplicate) failures.push(`${name} ${start}: ${answer.status} ${JSON.stringify(answer.body)}`);
            }
          }),
        );
        const done = await finalize(t.uploadUrl, id, { checksum: digest(data, 'sha256'), checksum_algo: 'sha256' });
        if (done.status !== 201) failures.push(`${name} finalize: ${done.status} ${JSON.stringify(done.body)}`);
      }),
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(listFiles(t.assembledDir), files.map((file) => file.name).sort());
    for (const { name, data } of files) assert.deepEqual(readFileSync(join(t.assembledDir, name)), data, name);
    assert.deepEqual(listFiles(t.chunkDir), []);
  });
});
