import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { fragoMigrationsFor } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { Device } from '../fixtures/device/device.entity';
import { DeviceUpload } from '../fixtures/device/device-upload.entity';
import { DeviceIdentifierStrategy } from '../fixtures/device/device-identifier.strategy';
import { CreateDevices1733000000000 } from '../fixtures/device/device.migration';
import { tempFiles, type TempFiles, uniqueName } from './support/files';
import { runCli } from './support/run-cli';

describe("CLI against the README's device strategy under a custom routePrefix (--header, --upload-path)", () => {
  let db: TestDatabase;
  let t: TestApp;
  let files: TempFiles;
  let deviceId: number;

  before(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({
      db,
      extras: { uploadEntity: DeviceUpload, routePrefix: 'files' },
      migrations: [...fragoMigrationsFor({ uploadTable: 'device_upload' }), CreateDevices1733000000000],
      options: { identifierMode: DeviceIdentifierStrategy },
    });
    const devices = t.app.get(DataSource).getRepository(Device);
    deviceId = (await devices.save(devices.create({ name: 'camera', apiKey: 'cli-key' }))).id;
    files = await tempFiles();
  });
  after(async () => {
    await t?.close();
    await files?.remove();
    await db?.drop();
  });

  it("uploads with --header 'x-device-key: …' and --upload-path files; the file lands in the device's folder", async () => {
    const name = uniqueName('device-cli');
    const { path, bytes } = await files.create(name, 300_001);
    const run = await runCli([
      path,
      '--url',
      `${t.baseUrl}/api`,
      '--upload-path',
      'files',
      '--header',
      'x-device-key: cli-key',
      '--chunk-size',
      '64K',
      '--no-state',
    ]).done;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readFileSync(join(t.assembledDir, 'devices', String(deviceId), name)), bytes);
  });

  it('without the header: exit 1 with one line naming the 403', async () => {
    const { path } = await files.create(uniqueName('device-cli-no-key'), 10);
    const run = await runCli([path, '--url', `${t.baseUrl}/api`, '--upload-path', 'files', '--no-state']).done;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /403/);
  });

  it('refuses a malformed --header before any request', async () => {
    const run = await runCli(['whatever.bin', '--url', `${t.baseUrl}/api`, '--header', 'no-colon']).done;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /--header must be 'Name: value', got "no-colon"/);
  });
});
