/**
 * S3 on a real Ceph RGW and PostgreSQL: three app processes on separate data
 * folders share only the database and one bucket; chunks below and above
 * 5 MiB are sprayed round-robin and 32 finalizes hit all three: one object,
 * byte-exact, `upload.completed` once, nothing left behind.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertNoLeftovers, assertSettledAs, describeFleet, layout, MiB, PREFIX, publishedKeys, untilSettled } from './support/s3-fleet';

const FINALIZERS = 32;

describeFleet('round-robin and 32 finalizes', (fleet, instances) => {
  it('chunks below and above 5 MiB sprayed round-robin, 32 finalizes across the three: one object, byte-exact, upload.completed once', async () => {
    const data = testBytes(25 * MiB + 321, 201);
    const ranges = layout([6 * MiB, 6 * MiB, 1 * MiB, 1 * MiB, 5 * MiB, 2 * MiB, 4 * MiB + 321]);
    const id = await startOk(instances()[0].uploadUrl, 'sprayed.bin', data.length);
    const answers = await Promise.all(
      ranges
        .reverse()
        .map(({ start, end }, i) => putChunk(instances()[i % 3].uploadUrl, id, data.subarray(start, end), start, data.length, { multipart: i % 2 === 0 })),
    );
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));

    const finals = await Promise.all(
      Array.from({ length: FINALIZERS }, (_, n) => untilSettled(() => finalize(instances()[n % 3].uploadUrl, id, { checksum: digest(data) }))),
    );
    for (const seen of finals) assertSettledAs(seen, 201);
    assert.deepEqual(await publishedKeys(fleet.bucket), [`${PREFIX}sprayed.bin`]);
    assert.ok((await fleet.bucket.get(`${PREFIX}sprayed.bin`))?.equals(data), 'the object holds exactly the uploaded bytes');
    assert.equal(await fleet.completedEvents(id), 1);
    await assertNoLeftovers(fleet.bucket, id);
  });
});
