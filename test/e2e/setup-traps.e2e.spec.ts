import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExpressAdapter } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import {
  ChunkedUploadChunk,
  ChunkedUploadModule,
  type ChunkedUploadOptions,
  FragoNameClaim,
  fragoMigrations,
  fragoMigrationsFor,
  IdentifierStrategy,
} from 'nestjs-frago';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { bootHostApp, type HostBoot } from './support/boot-host-app';
import { DeviceUpload } from '../fixtures/device/device-upload.entity';
import { DeviceIdentifierStrategy } from '../fixtures/device/device-identifier.strategy';
import { CreateDevices1733000000000 } from '../fixtures/device/device.migration';

const bootError = (db: TestDatabase, boot: HostBoot): Promise<Error | null> => bootHostApp(db, boot);

/** A strategy that needs the DataSource but forgot @Injectable(). */
class UndecoratedStrategy extends IdentifierStrategy {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  resolve(): null {
    return this.dataSource ? null : null;
  }
}

const deviceMigrations = (): Array<new () => unknown> => [...fragoMigrationsFor({ uploadTable: 'device_upload' }), CreateDevices1733000000000];

for (const kind of databaseKinds()) {
  describe(`set-up mistakes fail the boot with one message naming the cause and the fix, on ${kind}`, () => {
    let db: TestDatabase;
    let dataDir: string;
    const paths = (): ChunkedUploadOptions => ({ chunkUploadPath: join(dataDir, 'chunks'), assembledPath: join(dataDir, 'assembled'), cleanupInterval: 0 });

    before(async () => {
      db = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'frago-traps-'));
    });
    after(async () => {
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('boots the README device example: DeviceUpload at the top level of forRootAsync, its strategy, its migrations; Device is not listed anywhere: the module registers the entities DeviceUpload relates to (the control case)', async () => {
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRootAsync({
          uploadEntity: DeviceUpload,
          useFactory: () => ({ ...paths(), identifierMode: DeviceIdentifierStrategy }),
        }),
        migrations: deviceMigrations(),
      });
      assert.equal(error, null, error?.message);
    });

    for (const [key, value] of [
      ['uploadEntity', DeviceUpload],
      ['chunkEntity', DeviceUpload],
      ['routePrefix', 'files'],
      ['isGlobal', true],
    ] as const) {
      it(`${key} returned by the forRootAsync factory instead of the top level`, async () => {
        const error = await bootError(db, { uploadModule: ChunkedUploadModule.forRootAsync({ useFactory: () => ({ ...paths(), [key]: value }) }) });
        assert.ok(error, 'the boot must fail');
        assert.match(error.message, new RegExp(`"${key}"`));
        assert.match(error.message, /forRootAsync\(\) factory/);
        assert.match(error.message, new RegExp(`top level, ChunkedUploadModule\\.forRootAsync\\(\\{ ${key}: `));
      });
    }

    it("identifierMode 'user' with an upload entity that has no identifier column", async () => {
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRootAsync({ uploadEntity: DeviceUpload, useFactory: () => ({ ...paths(), identifierMode: 'user' }) }),
        migrations: deviceMigrations(),
      });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /UserIdentifierStrategy stores the owner in the field "identifier"/);
      assert.match(error.message, /DeviceUpload has no column or relation "identifier"/);
      assert.match(error.message, /identifierField/);
    });

    it('a custom strategy whose identifierField is not on the entity', async () => {
      class TypoStrategy extends IdentifierStrategy {
        override readonly identifierField = 'devise';
        resolve(): null {
          return null;
        }
      }
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRoot({ ...paths(), uploadEntity: DeviceUpload, identifierMode: TypoStrategy }),
        migrations: deviceMigrations(),
      });
      assert.ok(error, 'the boot must fail');
      assert.match(
        error.message,
        /TypoStrategy stores the owner in the field "devise".*DeviceUpload has no column or relation "devise".*Set TypoStrategy\.identifierField/,
      );
    });

    it('the Express adapter', async () => {
      const error = await bootError(db, { uploadModule: ChunkedUploadModule.forRoot(paths()), adapter: () => new ExpressAdapter() });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /need the Fastify adapter \(the app runs on ExpressAdapter/);
      assert.match(error.message, /new FastifyAdapter\(/);
    });

    it('EventEmitterModule.forRoot() missing', async () => {
      const error = await bootError(db, { uploadModule: ChunkedUploadModule.forRoot(paths()), withoutEvents: true });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /^nestjs-frago: no EventEmitter2/);
      assert.match(error.message, /EventEmitterModule\.forRoot\(\) from @nestjs\/event-emitter/);
    });

    it('the tables missing (migrations not run)', async () => {
      const error = await bootError(db, { uploadModule: ChunkedUploadModule.forRoot(paths()), migrations: [] });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /the table "frago_upload" of uploadEntity ChunkUpload does not exist/);
      assert.match(error.message, /Add fragoMigrations to the DataSource's migrations/);
    });

    it("a custom upload entity's table missing", async () => {
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRoot({ ...paths(), uploadEntity: DeviceUpload, identifierMode: DeviceIdentifierStrategy }),
        migrations: fragoMigrations,
      });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /the table "device_upload" of uploadEntity DeviceUpload does not exist/);
      assert.match(error.message, /fragoMigrationsFor\(\{ uploadTable: 'device_upload' \}\) and your migration of DeviceUpload's own columns/);
    });

    it("a custom upload entity's own columns missing (only frago's migrations run)", async () => {
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRoot({ ...paths(), uploadEntity: DeviceUpload, identifierMode: DeviceIdentifierStrategy }),
        migrations: fragoMigrationsFor({ uploadTable: 'device_upload' }),
      });
      assert.ok(error, 'the boot must fail');
      // The device table is missing too, so the relation's table check or the column check names it.
      assert.match(error.message, /"device_upload" of uploadEntity DeviceUpload lacks the column\(s\) "device_id"/);
    });

    it('Device missing from an explicit entity list (autoLoadEntities off): TypeORM names the relation and the entity', async () => {
      const error = await bootError(db, {
        uploadModule: ChunkedUploadModule.forRootAsync({
          uploadEntity: DeviceUpload,
          useFactory: () => ({ ...paths(), identifierMode: DeviceIdentifierStrategy }),
        }),
        migrations: deviceMigrations(),
        entities: [DeviceUpload, ChunkedUploadChunk, FragoNameClaim],
      });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /Entity metadata for DeviceUpload#device was not found/);
    });

    it('a strategy class with constructor arguments but no @Injectable()', async () => {
      const error = await bootError(db, { uploadModule: ChunkedUploadModule.forRoot({ ...paths(), identifierMode: UndecoratedStrategy }) });
      assert.ok(error, 'the boot must fail');
      assert.match(
        error.message,
        /UndecoratedStrategy takes constructor arguments but has no @Injectable\(\) decorator.*add @Injectable\(\) to UndecoratedStrategy/,
      );
    });
  });
}
