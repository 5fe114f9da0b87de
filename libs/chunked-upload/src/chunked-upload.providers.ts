import type { Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { resolve } from 'node:path';
import { FRAGO_CHUNK_REPOSITORY, FRAGO_NAME_REPOSITORY, FRAGO_OPTIONS, FRAGO_RAW_OPTIONS, FRAGO_UPLOAD_REPOSITORY } from './chunked-upload.constants';
import { FragoNameClaim } from './entities/frago-name-claim.entity';
import type { ChunkedUploadOptions, ResolvedChunkedUploadOptions } from './options/chunked-upload-options.interface';
import { InvalidFragoOptionError, resolveChunkedUploadOptions } from './options/resolve-options';
import type { AbstractChunkUpload } from './entities/abstract-chunk-upload.entity';
import type { ChunkedUploadChunk } from './entities/chunked-upload-chunk.entity';
import { ChunkStorage } from './storage/chunk-storage';
import { LocalDiskChunkStorage } from './storage/local-disk.storage';
import { IdentifierStrategy } from './identifier/identifier-strategy';
import { AnonymousIdentifierStrategy } from './identifier/anonymous-identifier.strategy';
import { UserIdentifierStrategy } from './identifier/user-identifier.strategy';
import { FragoSetupError } from './errors/frago-setup.error';

/** Resolved options: defaults applied and every field checked, once, at boot. */
export const optionsProvider: Provider = {
  provide: FRAGO_OPTIONS,
  useFactory: (raw: ChunkedUploadOptions | undefined) => resolveChunkedUploadOptions(raw),
  inject: [FRAGO_RAW_OPTIONS],
};

/** The configured storage, or local disk on the two configured folders. */
export const storageProvider: Provider = {
  provide: ChunkStorage,
  useFactory: async (options: ResolvedChunkedUploadOptions) => {
    const storage = options.storage ?? new LocalDiskChunkStorage(resolve(options.chunkUploadPath), resolve(options.assembledPath), { fsync: options.fsync });
    await storage.init();
    return storage;
  },
  inject: [FRAGO_OPTIONS],
};

/** The identifier strategy: a built-in mode, or the host's class instantiated through DI. */
export const identifierStrategyProvider: Provider = {
  provide: IdentifierStrategy,
  useFactory: async (options: ResolvedChunkedUploadOptions, moduleRef: ModuleRef): Promise<IdentifierStrategy> => {
    const mode = options.identifierMode;
    if (mode === 'anonymous') return new AnonymousIdentifierStrategy();
    if (mode === 'user') return new UserIdentifierStrategy();
    if (mode.length > 0 && !Reflect.getOwnMetadata('design:paramtypes', mode)) {
      throw new FragoSetupError(
        `the identifier strategy ${mode.name} takes constructor arguments but has no @Injectable() decorator, so Nest cannot inject them (they would be undefined at the first request): add @Injectable() to ${mode.name}`,
      );
    }
    return moduleRef.create(mode);
  },
  inject: [FRAGO_OPTIONS, ModuleRef],
};

/** Repositories of the configured entities, checked against the host's DataSource. */
export function repositoryProviders(uploadEntity: Type<AbstractChunkUpload>, chunkEntity: Type<ChunkedUploadChunk>): Provider[] {
  const repositoryOf = (token: symbol, entity: Type<unknown>, option: string): Provider => ({
    provide: token,
    useFactory: (dataSource: DataSource) => {
      if (!dataSource.hasMetadata(entity)) {
        throw new InvalidFragoOptionError(
          option,
          entity,
          `the entity is not registered in the TypeORM DataSource: set autoLoadEntities: true in TypeOrmModule.forRoot(), or list ${entity.name} in its entities`,
        );
      }
      return dataSource.getRepository(entity);
    },
    inject: [DataSource],
  });
  return [
    repositoryOf(FRAGO_UPLOAD_REPOSITORY, uploadEntity, 'uploadEntity'),
    repositoryOf(FRAGO_CHUNK_REPOSITORY, chunkEntity, 'chunkEntity'),
    repositoryOf(FRAGO_NAME_REPOSITORY, FragoNameClaim, 'FragoNameClaim'),
  ];
}
