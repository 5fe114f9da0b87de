import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { DynamicModule } from '@nestjs/common';
import { Entity } from 'typeorm';
import {
  AbstractChunkUpload,
  ChunkedUploadChunk,
  FragoNameClaim,
  ChunkedUploadModule,
  type ChunkedUploadOptions,
  ChunkUpload,
  IdentifierStrategy,
  type PublishedFile,
} from 'nestjs-frago';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { bootHostApp, type HostBoot } from './support/boot-host-app';

/** Boots a host app with `uploadModule`; every boot runs the same migrations, so the schema is kept between them. */
const bootError = (db: TestDatabase, uploadModule: DynamicModule, setup: Pick<HostBoot, 'entities'> = {}): Promise<Error | null> =>
  bootHostApp(db, { uploadModule, ...setup, keepSchema: true });

/**
 * A host upload entity the DataSource is never told about. Without relations
 * on purpose: @nestjs/typeorm keeps `forFeature()` entities in a process-wide
 * registry, so later boots in this file with autoLoadEntities load it too.
 */
@Entity('unlisted_upload')
class UnlistedUpload extends AbstractChunkUpload {}

/** A class that looks like a storage backend but does not extend ChunkStorage. */
class DuckTypedStorage {
  async init(): Promise<void> {}
  async create(): Promise<void> {}
  async writeChunk(): Promise<number> {
    return 0;
  }
  read(): Readable {
    return Readable.from([]);
  }
  async publish(): Promise<PublishedFile | null> {
    return null;
  }
  async remove(): Promise<void> {}
}

/** A class that is not an IdentifierStrategy. */
class NotAStrategy {
  resolve(): null {
    return null;
  }
}

/** Bad options, the option the message must name, and the received value it must show. */
const BAD_OPTIONS: Array<{ name: string; options: Record<string, unknown>; option: string; shows: string }> = [
  { name: 'a negative maxUploadSize', options: { maxUploadSize: -1 }, option: 'maxUploadSize', shows: '-1' },
  { name: 'a zero maxChunkSize', options: { maxChunkSize: 0 }, option: 'maxChunkSize', shows: '0' },
  { name: 'a fractional expiration', options: { expiration: 1.5 }, option: 'expiration', shows: '1.5' },
  { name: 'a negative assembleReadSize', options: { assembleReadSize: -8 }, option: 'assembleReadSize', shows: '-8' },
  { name: 'a negative cleanupInterval', options: { cleanupInterval: -1 }, option: 'cleanupInterval', shows: '-1' },
  { name: 'a size given as a string', options: { maxUploadSize: '1000' }, option: 'maxUploadSize', shows: '"1000"' },
  { name: 'a non-finite size', options: { maxChunkSize: Number.POSITIVE_INFINITY }, option: 'maxChunkSize', shows: 'Infinity' },
  { name: 'maxChunkSize above maxUploadSize', options: { maxUploadSize: 1000, maxChunkSize: 2000 }, option: 'maxChunkSize', shows: '2000' },
  { name: 'an unknown checksumType', options: { checksumType: 'crc-999' }, option: 'checksumType', shows: '"crc-999"' },
  { name: 'a storage that is not a ChunkStorage', options: { storage: new DuckTypedStorage() }, option: 'storage', shows: 'DuckTypedStorage' },
  { name: "identifierMode 'bogus'", options: { identifierMode: 'bogus' }, option: 'identifierMode', shows: '"bogus"' },
  {
    name: 'an identifierMode class that is not an IdentifierStrategy',
    options: { identifierMode: NotAStrategy },
    option: 'identifierMode',
    shows: 'NotAStrategy',
  },
  { name: 'an unknown option key', options: { chunkSize: 1024 }, option: 'chunkSize', shows: '1024' },
  { name: 'a non-boolean doChecksum', options: { doChecksum: 'yes' }, option: 'doChecksum', shows: '"yes"' },
];

for (const kind of databaseKinds()) {
  describe(`options validated at boot on ${kind}`, () => {
    let db: TestDatabase;
    let dataDir: string;
    const paths = (): ChunkedUploadOptions => ({ chunkUploadPath: join(dataDir, 'chunks'), assembledPath: join(dataDir, 'assembled'), cleanupInterval: 0 });

    before(async () => {
      db = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'frago-options-'));
    });
    after(async () => {
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('boots with valid options (the control case)', async () => {
      const error = await bootError(
        db,
        ChunkedUploadModule.forRoot({ ...paths(), maxUploadSize: 1000, maxChunkSize: 1000, checksumType: 'SHA256', identifierMode: 'user' }),
      );
      assert.equal(error, null);
    });

    it('boots with a custom IdentifierStrategy class (the control case)', async () => {
      class CustomStrategy extends IdentifierStrategy {
        resolve(): null {
          return null;
        }
      }
      assert.equal(await bootError(db, ChunkedUploadModule.forRoot({ ...paths(), identifierMode: CustomStrategy })), null);
    });

    for (const bad of BAD_OPTIONS) {
      it(`fails the boot for ${bad.name}, naming ${bad.option} and the value received`, async () => {
        const error = await bootError(db, ChunkedUploadModule.forRoot({ ...paths(), ...(bad.options as ChunkedUploadOptions) }));
        assert.ok(error, 'the boot must fail');
        assert.ok(error.message.includes(`"${bad.option}"`), error.message);
        assert.ok(error.message.includes(bad.shows), error.message);
      });
    }

    it('fails the boot for a bad option returned by a forRootAsync factory, naming it', async () => {
      const error = await bootError(db, ChunkedUploadModule.forRootAsync({ useFactory: async () => ({ ...paths(), maxChunkSize: -5 }) }));
      assert.ok(error?.message.includes('"maxChunkSize"'), error?.message);
    });

    it('fails the boot when the upload entity is missing from the DataSource (autoLoadEntities off), telling to set autoLoadEntities', async () => {
      const error = await bootError(db, ChunkedUploadModule.forRoot(paths()), { entities: [ChunkedUploadChunk] });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /uploadEntity/);
      assert.match(error.message, /autoLoadEntities/);
      assert.match(error.message, /ChunkUpload/);
    });

    it('fails the boot when the chunk entity is missing from the DataSource, telling to set autoLoadEntities', async () => {
      const error = await bootError(db, ChunkedUploadModule.forRoot(paths()), { entities: [ChunkUpload] });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /chunkEntity/);
      assert.match(error.message, /autoLoadEntities/);
    });

    it("fails the boot when a host's uploadEntity is not in the DataSource, naming it", async () => {
      const error = await bootError(db, ChunkedUploadModule.forRoot({ ...paths(), uploadEntity: UnlistedUpload }), {
        entities: [ChunkUpload, ChunkedUploadChunk, FragoNameClaim],
      });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /uploadEntity/);
      assert.match(error.message, /UnlistedUpload/);
      assert.match(error.message, /autoLoadEntities/);
    });

    it('fails the boot when the name claim entity is missing from the DataSource, naming it', async () => {
      const error = await bootError(db, ChunkedUploadModule.forRoot(paths()), { entities: [ChunkUpload, ChunkedUploadChunk] });
      assert.ok(error, 'the boot must fail');
      assert.match(error.message, /FragoNameClaim/);
      assert.match(error.message, /autoLoadEntities/);
    });

    it('boots without autoLoadEntities when the host lists the three entities (the control case)', async () => {
      const error = await bootError(db, ChunkedUploadModule.forRoot(paths()), {
        entities: [ChunkUpload, ChunkedUploadChunk, FragoNameClaim],
      });
      assert.equal(error, null);
    });
  });
}
