import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import {
  type ChunkedUploadAsyncOptions,
  ChunkedUploadModule,
  type ChunkedUploadOptions,
  type ChunkedUploadOptionsFactory,
  FRAGO_OPTIONS,
  type ResolvedChunkedUploadOptions,
} from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';

/** A host's configuration service (what `@nestjs/config` would give), built per test from its data folder. */
@Injectable()
class UploadConfig {
  constructor(readonly dataDir: string) {}

  get chunkDir(): string {
    return join(this.dataDir, 'chunks');
  }

  get assembledDir(): string {
    return join(this.dataDir, 'assembled');
  }
}

/** The host's config module, imported by `forRootAsync({ imports })`. */
function configModule(dataDir: string): DynamicModule {
  return { module: UploadConfigModule, providers: [{ provide: UploadConfig, useValue: new UploadConfig(dataDir) }], exports: [UploadConfig] };
}

@Module({})
class UploadConfigModule {}

/** Options shared by every variant; each variant sets sha256 and a small chunk limit to prove its options arrived. */
function optionsFrom(config: UploadConfig): ChunkedUploadOptions {
  return { chunkUploadPath: config.chunkDir, assembledPath: config.assembledDir, cleanupInterval: 0, checksumType: 'sha256', maxChunkSize: 64 * 1024 };
}

/** `useClass`: instantiated by the module, with its own dependencies from `imports`. */
@Injectable()
class UploadOptionsFactory implements ChunkedUploadOptionsFactory {
  constructor(private readonly config: UploadConfig) {}

  async createChunkedUploadOptions(): Promise<ChunkedUploadOptions> {
    return optionsFrom(this.config);
  }
}

/** `useExisting`: a factory that lives in (and is exported by) a host module. */
@Injectable()
class ExistingOptionsFactory implements ChunkedUploadOptionsFactory {
  constructor(private readonly config: UploadConfig) {}

  createChunkedUploadOptions(): ChunkedUploadOptions {
    return optionsFrom(this.config);
  }
}

@Module({})
class HostOptionsModule {}

/** The host module that owns the `useExisting` factory. */
function hostOptionsModule(dataDir: string): DynamicModule {
  return { module: HostOptionsModule, imports: [configModule(dataDir)], providers: [ExistingOptionsFactory], exports: [ExistingOptionsFactory] };
}

/** The forRootAsync() argument of each variant. */
const VARIANTS: Record<string, (dataDir: string) => ChunkedUploadAsyncOptions> = {
  'useFactory + inject': (dataDir) => ({
    imports: [configModule(dataDir)],
    inject: [UploadConfig],
    useFactory: (config: UploadConfig) => optionsFrom(config),
    routePrefix: 'files',
  }),
  'async useFactory': (dataDir) => ({
    imports: [configModule(dataDir)],
    inject: [UploadConfig],
    useFactory: async (config: UploadConfig) => optionsFrom(config),
  }),
  useClass: (dataDir) => ({ imports: [configModule(dataDir)], useClass: UploadOptionsFactory }),
  useExisting: (dataDir) => ({ imports: [hostOptionsModule(dataDir)], useExisting: ExistingOptionsFactory }),
};

for (const kind of databaseKinds()) {
  describe(`forRootAsync on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp | undefined;
    let dataDir: string;

    before(async () => {
      db = await createTestDatabase(kind);
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    });
    after(async () => {
      await db?.drop();
    });

    for (const [name, variant] of Object.entries(VARIANTS)) {
      it(`${name}: boots with the factory's options and serves an upload end to end (201/200/201)`, async () => {
        dataDir = mkdtempSync(join(tmpdir(), 'frago-async-'));
        const asyncOptions = variant(dataDir);
        t = await createTestApp({
          db,
          dataDir,
          uploadModule: ChunkedUploadModule.forRootAsync(asyncOptions),
          extras: { routePrefix: asyncOptions.routePrefix },
        });
        const resolved = t.app.get<ResolvedChunkedUploadOptions>(FRAGO_OPTIONS, { strict: false });
        assert.equal(resolved.checksumType, 'sha256');
        assert.equal(resolved.assembledPath, join(dataDir, 'assembled'));

        const data = testBytes(100_000, name.length);
        const filename = `${name.replace(/\W+/g, '-')}.bin`;
        const id = await startOk(t.uploadUrl, filename, data.length);
        // maxChunkSize came from the factory: a 64 KiB + 1 chunk is refused.
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 65_537), 0, data.length)).status, 413);
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(0, 50_000), 0, data.length)).status, 200);
        assert.equal((await putChunk(t.uploadUrl, id, data.subarray(50_000), 50_000, data.length, { multipart: true })).status, 200);
        // checksumType came from the factory: no checksum_algo means sha256.
        const done = await finalize(t.uploadUrl, id, { checksum: digest(data, 'sha256') });
        assert.equal(done.status, 201, JSON.stringify(done.body));
        assert.deepEqual(readFileSync(join(dataDir, 'assembled', filename)), data);
        if (asyncOptions.routePrefix) assert.match(t.uploadUrl, /\/api\/files$/);
      });
    }
  });
}
