export * from './chunked-upload.module';
export { FRAGO_OPTIONS } from './chunked-upload.constants';
export { InjectFragoOptions } from './inject-frago-options.decorator';
export * from './options/chunked-upload-options.interface';
export { InvalidFragoOptionError } from './options/resolve-options';
export { FragoSetupError } from './errors/frago-setup.error';
export { FragoHealth, type FragoHealthCheck, type FragoHealthReport } from './setup/frago-health';
export { FragoMetrics } from './metrics/frago-metrics';
export type { FragoOperation } from './metrics/operations';
export { FragoOpenApi, fragoOpenApiDocument, type FragoOpenApiDocument, type FragoOpenApiOptions } from './http/openapi';
export * from './entities/upload-status';
export * from './entities/abstract-chunk-upload.entity';
export * from './entities/chunk-upload.entity';
export * from './entities/chunked-upload-chunk.entity';
export * from './entities/frago-name-claim.entity';
export * from './entities/bigint.transformer';
export * from './identifier/identifier-strategy';
export * from './identifier/anonymous-identifier.strategy';
export * from './identifier/user-identifier.strategy';
export * from './storage/chunk-storage';
export * from './storage/local-disk.storage';
export * from './events/frago-events';
export * from './events/upload.events';
export * from './errors/frago.errors';
export { UploadService, type UploadState } from './services/upload.service';
export { ExpiryService } from './services/expiry.service';
export {
  CreateFragoTables1732400000000,
  NameFragoUploadIndexes1732500000000,
  fragoMigrations,
  fragoMigrationsFor,
  type FragoMigrationClass,
  type FragoMigrationTarget,
} from './migrations/create-frago-tables';
export { AddFragoNameClaims1764633600000 } from './migrations/add-frago-name-claims';
export { WidenFragoChecksumAlgo1764637200000 } from './migrations/widen-frago-checksum-algo';
export { FragoByteExactKeys1764640800000 } from './migrations/frago-byte-exact-keys';
export { CreateFragoTusTable1764720000000 } from './migrations/create-frago-tus-table';
export { FragoTusUpload, type TusConcatKind } from './tus/tus-upload.entity';
export type * from './protocol/wire.types';
