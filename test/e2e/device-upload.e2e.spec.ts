import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { deleteUpload, digest, finalize, getStatus, type JsonResponse, putChunk, startOk, startUpload, testBytes, uploadAll } from '../helpers/upload-client';
import { Device } from '../fixtures/device/device.entity';
import { DeviceUpload } from '../fixtures/device/device-upload.entity';
import { deviceMigrations, deviceUploadModule } from '../fixtures/device/device-registration';
import { DeviceUploads } from '../fixtures/device/device-uploads.service';

const KEY_A = { 'x-device-key': 'key-of-camera-a' };
const KEY_B = { 'x-device-key': 'key-of-camera-b' };
const UNKNOWN = { 'x-device-key': 'no-such-key' };

async function list(url: string, headers: Record<string, string>): Promise<JsonResponse> {
  const response = await fetch(`${url}/`, { headers });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown>, headers: response.headers };
}

for (const kind of databaseKinds()) {
  describe(`device uploads (custom entity with a relation + custom strategy, schema by migrations) on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let deviceA: Device;
    let cleanup = (): void => undefined;

    before(async () => {
      db = await createTestDatabase(kind);
      // The README's registration and migrations, as they are (test/fixtures/device/device-registration.ts).
      const dataDir = mkdtempSync(join(tmpdir(), 'frago-device-'));
      t = await createTestApp({
        db,
        dataDir,
        uploadModule: deviceUploadModule({ chunkUploadPath: join(dataDir, 'chunks'), assembledPath: join(dataDir, 'assembled') }),
        migrations: deviceMigrations,
        providers: [DeviceUploads],
      });
      cleanup = () => rmSync(dataDir, { recursive: true, force: true });
      const devices = t.app.get(DataSource).getRepository(Device);
      deviceA = await devices.save(devices.create({ name: 'camera A', apiKey: KEY_A['x-device-key'] }));
      await devices.save(devices.create({ name: 'camera B', apiKey: KEY_B['x-device-key'] }));
    });
    after(async () => {
      await t?.close();
      cleanup();
      await db?.drop();
    });

    it("a known device uploads a file end to end; the bytes land under the device's folder (201)", async () => {
      const data = testBytes(200_001, 5);
      const id = await uploadAll(t.uploadUrl, 'clip.mp4', data, 65_536, { headers: KEY_A, algo: 'sha256' });
      const path = join(t.assembledDir, 'devices', String(deviceA.id), 'clip.mp4');
      assert.deepEqual(readFileSync(path), data);
      const status = await getStatus(t.uploadUrl, id, KEY_A);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'complete');
      const row = await t.app
        .get(DataSource)
        .getRepository(DeviceUpload)
        .findOneOrFail({ where: { id }, relations: { device: true } });
      assert.equal(row.device?.id, deviceA.id);
      assert.equal(row.deviceId, deviceA.id);
    });

    it("the host's own service and listener, typed by DeviceUpload and Device (the README's DeviceUploads), list, cancel and see completions of a device's uploads", async () => {
      const host = t.app.get(DeviceUploads);
      const deviceB = await t.app.get(DataSource).getRepository(Device).findOneByOrFail({ apiKey: KEY_B['x-device-key'] });
      const open = await startOk(t.uploadUrl, 'pending.bin', 10, KEY_A);
      const ofB = await startOk(t.uploadUrl, 'other-device.bin', 10, KEY_B);
      const pending = await host.inProgress(deviceA);
      assert.ok(
        pending.some((upload) => upload.id === open),
        "the device's upload is listed",
      );
      assert.ok(
        pending.every((upload) => upload.deviceId === deviceA.id),
        "and only that device's",
      );
      assert.ok(!(await host.inProgress(deviceB)).some((upload) => upload.id === open));
      await assert.rejects(host.cancel(deviceB, open), /not found/i, 'another device cannot cancel it');
      await host.cancel(deviceA, open);
      await host.cancel(deviceB, ofB);
      assert.equal((await getStatus(t.uploadUrl, open, KEY_A)).status, 404);
      assert.equal((await getStatus(t.uploadUrl, ofB, KEY_B)).status, 404);
      const before = host.published.length;
      const data = testBytes(1000, 9);
      await uploadAll(t.uploadUrl, 'done.bin', data, 400, { headers: KEY_A });
      assert.deepEqual(host.published.slice(before), [{ deviceId: deviceA.id, location: join(t.assembledDir, 'devices', String(deviceA.id), 'done.bin') }]);
    });

    it('answers 403 to an unknown or missing device key on every route', async () => {
      const id = await startOk(t.uploadUrl, 'target.bin', 100, KEY_A);
      for (const headers of [UNKNOWN, {}]) {
        const answers = [
          await startUpload(t.uploadUrl, { filename: 'x.bin', total_size: 10 }, headers),
          await list(t.uploadUrl, headers),
          await getStatus(t.uploadUrl, id, headers),
          await putChunk(t.uploadUrl, id, testBytes(100), 0, 100, { headers }),
          await finalize(t.uploadUrl, id, { checksum: digest(testBytes(100)) }, headers),
          await deleteUpload(t.uploadUrl, id, headers),
        ];
        assert.deepEqual(
          answers.map((a) => a.status),
          Array(answers.length).fill(403),
          JSON.stringify(answers.map((a) => a.body)),
        );
        assert.ok(answers.every((a) => (a.body as { status: unknown }).status === false));
      }
      assert.deepEqual((await getStatus(t.uploadUrl, id, KEY_A)).body.chunks, []);
    });

    it('answers 404 to another device on every :id operation of the upload', async () => {
      const data = testBytes(100, 9);
      const id = await startOk(t.uploadUrl, 'private.bin', data.length, KEY_A);
      const answers = [
        await getStatus(t.uploadUrl, id, KEY_B),
        await putChunk(t.uploadUrl, id, data, 0, data.length, { headers: KEY_B }),
        await finalize(t.uploadUrl, id, { checksum: digest(data) }, KEY_B),
        await deleteUpload(t.uploadUrl, id, KEY_B),
      ];
      assert.deepEqual(
        answers.map((a) => a.status),
        [404, 404, 404, 404],
      );
      const mine = await getStatus(t.uploadUrl, id, KEY_A);
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.chunks, []);
    });

    it("lists only the calling device's uploads (200)", async () => {
      const ofB = [await startOk(t.uploadUrl, 'b1.bin', 10, KEY_B), await startOk(t.uploadUrl, 'b2.bin', 10, KEY_B)];
      const ofA = await startOk(t.uploadUrl, 'a-listed.bin', 10, KEY_A);
      const listB = await list(t.uploadUrl, KEY_B);
      assert.equal(listB.status, 200);
      const idsB = (listB.body as unknown as Array<{ upload_id: string }>).map((entry) => entry.upload_id);
      assert.deepEqual([...idsB].sort(), [...ofB].sort());
      const idsA = ((await list(t.uploadUrl, KEY_A)).body as unknown as Array<{ upload_id: string }>).map((entry) => entry.upload_id);
      assert.ok(idsA.includes(ofA));
      assert.ok(!idsA.some((id) => ofB.includes(id)));
    });

    it('a device deletes its own upload and its chunk data (204)', async () => {
      const data = testBytes(100, 3);
      const id = await startOk(t.uploadUrl, 'gone.bin', data.length, KEY_B);
      assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 50), 0, data.length, { headers: KEY_B })).status, 200);
      assert.equal((await deleteUpload(t.uploadUrl, id, KEY_B)).status, 204);
      assert.equal((await getStatus(t.uploadUrl, id, KEY_B)).status, 404);
      assert.deepEqual(
        readdirSync(t.chunkDir).filter((name) => name.includes(id)),
        [],
        'no chunk data left',
      );
      assert.equal(await t.app.get(DataSource).getRepository(DeviceUpload).countBy({ id }), 0);
    });
  });
}
