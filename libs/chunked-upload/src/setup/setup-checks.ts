import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityMetadata, type Repository } from 'typeorm';
import { FRAGO_CHUNK_REPOSITORY, FRAGO_NAME_REPOSITORY, FRAGO_OPTIONS, FRAGO_UPLOAD_REPOSITORY } from '../chunked-upload.constants';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { ChunkUpload } from '../entities/chunk-upload.entity';
import type { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';
import type { FragoNameClaim } from '../entities/frago-name-claim.entity';
import { IdentifierStrategy } from '../identifier/identifier-strategy';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { FragoSetupError } from '../errors/frago-setup.error';

/**
 * Checks at boot what would otherwise fail only at the first request: the
 * strategy's identifier field exists on the upload entity, and the tables of
 * the three entities exist with all their columns: a bad set-up fails the
 * boot with a message naming the cause and the fix.
 */
@Injectable()
export class FragoSetupChecks implements OnModuleInit {
  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly strategy: IdentifierStrategy,
    @Inject(FRAGO_UPLOAD_REPOSITORY) private readonly uploads: Repository<AbstractChunkUpload>,
    @Inject(FRAGO_CHUNK_REPOSITORY) private readonly chunks: Repository<ChunkedUploadChunk>,
    @Inject(FRAGO_NAME_REPOSITORY) private readonly names: Repository<FragoNameClaim>,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    this.checkIdentifierField();
    await this.checkTables();
  }

  private checkIdentifierField(): void {
    if (this.options.identifierMode === 'anonymous') return;
    const field = this.strategy.identifierField;
    const metadata = this.uploads.metadata;
    if (metadata.findColumnWithPropertyName(field) || metadata.findRelationWithPropertyPath(field)) return;
    const strategy = this.strategy.constructor.name;
    const entity = metadata.targetName;
    throw new FragoSetupError(
      `the identifier strategy ${strategy} stores the owner in the field "${field}" (its identifierField), but the upload entity ${entity} has no column or relation "${field}". ` +
        (this.options.identifierMode === 'user'
          ? `identifierMode 'user' needs an "identifier" column (the built-in ChunkUpload has one): add it to ${entity}, or pass a strategy class whose identifierField names ${entity}'s owner field (e.g. identifierMode: DeviceIdentifierStrategy with identifierField = 'device').`
          : `Set ${strategy}.identifierField to a column or relation of ${entity}, or add "${field}" to ${entity}.`),
    );
  }

  private async checkTables(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    try {
      for (const [metadata, option] of [
        [this.uploads.metadata, 'uploadEntity'],
        [this.chunks.metadata, 'chunkEntity'],
        [this.names.metadata, 'FragoNameClaim'],
      ] as const) {
        const table = await runner.getTable(metadata.tablePath);
        if (!table)
          throw new FragoSetupError(`the table "${metadata.tablePath}" of ${describeEntity(metadata, option)} does not exist. ${this.migrationHint()}`);
        const missing = metadata.columns.map((column) => column.databaseName).filter((name) => !table.findColumnByName(name));
        if (missing.length > 0) {
          throw new FragoSetupError(
            `the table "${metadata.tablePath}" of ${describeEntity(metadata, option)} lacks the column(s) ${missing.map((name) => `"${name}"`).join(', ')}. ${this.migrationHint()}`,
          );
        }
      }
    } finally {
      await runner.release();
    }
  }

  private migrationHint(): string {
    if (this.uploads.metadata.target === ChunkUpload) {
      return "Add fragoMigrations to the DataSource's migrations with migrationsRun: true (or run them with the TypeORM CLI) before the app starts.";
    }
    return (
      `With your own upload entity, add fragoMigrationsFor({ uploadTable: '${this.uploads.metadata.tablePath}' }) and your migration of ${this.uploads.metadata.targetName}'s own columns ` +
      "to the DataSource's migrations with migrationsRun: true (or run them with the TypeORM CLI) before the app starts."
    );
  }
}

function describeEntity(metadata: EntityMetadata, option: string): string {
  return option === 'FragoNameClaim' ? 'FragoNameClaim' : `${option} ${metadata.targetName}`;
}
