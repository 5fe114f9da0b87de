/**
 * S3 on a real Ceph RGW and PostgreSQL, instances on separate data folders:
 * an instance killed with SIGKILL mid-chunk leaves nothing counted, one killed
 * mid-composition leaves nothing behind once another instance finalizes.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { digest, finalize, getStatus, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { openChunk } from './support/open-chunk';
import { assertNoLeftovers, assertSettledAs, describeFleet, layout, MiB, PREFIX, publishedKeys, untilSettled } from './support/s3-fleet';

describeFleet('kill -9', (fleet, instances) => {
  it('kill -9 of the instance receiving a chunk: nothing of it counts; the chunk and the finalize succeed on another instance', async () => {
    const victim = await fleet.startInstance();
    const data = testBytes(12 * MiB, 202);
    const id = await startOk(instances()[0].uploadUrl, 'cut.bin', data.length);
    assert.equal((await putChunk(instances()[1].uploadUrl, id, data.subarray(0, 6 * MiB), 0, data.length)).status, 200);
    const open = openChunk(victim.uploadUrl, id, data.subarray(6 * MiB), 6 * MiB, data.length);
    await open.send(3 * MiB);
    await victim.kill();
    await open.outcome;
    const status = await getStatus(instances()[2].uploadUrl, id);
    assert.equal(status.body.received_bytes, 6 * MiB, 'the cut chunk is not counted');
    const resent = await untilSettled(() => putChunk(instances()[2].uploadUrl, id, data.subarray(6 * MiB), 6 * MiB, data.length));
    assertSettledAs(resent, 200);
    const done = await untilSettled(() => finalize(instances()[0].uploadUrl, id, { checksum: digest(data) }));
    assertSettledAs(done, 201);
    assert.ok((await fleet.bucket.get(`${PREFIX}cut.bin`))?.equals(data));
    await assertNoLeftovers(fleet.bucket, id);
  });

  it('kill -9 of the finalizing instance mid-composition: another instance finalizes, one object, nothing left behind', async () => {
    const victim = await fleet.startInstance();
    const data = testBytes(48 * MiB, 203);
    const sizes = Array.from({ length: 48 }, () => MiB); // small chunks: the composition streams them, which takes a while
    const id = await startOk(instances()[0].uploadUrl, 'killed.bin', data.length);
    for (const [i, { start, end }] of layout(sizes).entries()) {
      assert.equal((await putChunk(instances()[i % 3].uploadUrl, id, data.subarray(start, end), start, data.length)).status, 200);
    }
    const finalizing = finalize(victim.uploadUrl, id, { checksum: digest(data) }).catch(() => null);
    // Killed once the composition has begun: its multipart upload at the published key exists in the bucket
    // (the upload's own one, which took the chunks written as parts, lives in the staging area).
    while ((await fleet.bucket.multipartUploads(PREFIX)).filter((key) => !key.startsWith(`${PREFIX}.frago/`)).length === 0) {
      assert.notEqual(await fleet.probe.uploadStatus(id), 'complete', 'finalize ended before it could be interrupted');
      await sleep(20);
    }
    await victim.kill();
    await finalizing;
    assert.equal(await fleet.completedEvents(id), 0);
    const done = await untilSettled(() => finalize(instances()[1].uploadUrl, id, { checksum: digest(data) }));
    assertSettledAs(done, 201);
    assert.deepEqual(
      (await publishedKeys(fleet.bucket)).filter((key) => key.includes('killed')),
      [`${PREFIX}killed.bin`],
    );
    assert.ok((await fleet.bucket.get(`${PREFIX}killed.bin`))?.equals(data));
    assert.equal(await fleet.completedEvents(id), 1);
    await assertNoLeftovers(fleet.bucket, id);
  });
});
