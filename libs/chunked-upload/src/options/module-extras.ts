import type { Type } from '@nestjs/common';
import { DEFAULT_ROUTE_PREFIX } from '../chunked-upload.constants';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { ChunkUpload } from '../entities/chunk-upload.entity';
import { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';
import type { ChunkedUploadModuleExtras } from './chunked-upload-options.interface';

/** The definition-time settings with their defaults applied (`tusPath` null when tus is off). */
export interface ResolvedModuleExtras {
  readonly uploadEntity: Type<AbstractChunkUpload>;
  readonly chunkEntity: Type<ChunkedUploadChunk>;
  readonly routePrefix: string;
  readonly tusPath: string | null;
  readonly isGlobal: boolean;
}

/**
 * The definition-time settings and their defaults, the one place they live. The module
 * builder gets this object as its extras: it keeps these keys out of `forRoot()`'s module
 * options and hands them, over these defaults, to the module's assembly.
 */
export const FRAGO_MODULE_EXTRAS: Readonly<Required<Omit<ChunkedUploadModuleExtras, 'tusPath'>>> & Pick<ChunkedUploadModuleExtras, 'tusPath'> = Object.freeze({
  uploadEntity: ChunkUpload,
  chunkEntity: ChunkedUploadChunk,
  routePrefix: DEFAULT_ROUTE_PREFIX,
  tusPath: undefined,
  isGlobal: false,
});

/** Names of the definition-time settings (a `forRootAsync()` factory that returns one is refused at boot). */
export const FRAGO_MODULE_EXTRA_KEYS: ReadonlySet<string> = new Set(Object.keys(FRAGO_MODULE_EXTRAS));

/** The extras a host gave, over the defaults; an explicit `undefined` means the default too. */
export function resolveModuleExtras(given: ChunkedUploadModuleExtras): ResolvedModuleExtras {
  const tusPath = given.tusPath?.trim();
  return {
    uploadEntity: given.uploadEntity ?? FRAGO_MODULE_EXTRAS.uploadEntity,
    chunkEntity: given.chunkEntity ?? FRAGO_MODULE_EXTRAS.chunkEntity,
    routePrefix: given.routePrefix ?? FRAGO_MODULE_EXTRAS.routePrefix,
    tusPath: tusPath ? tusPath : null,
    isGlobal: given.isGlobal ?? FRAGO_MODULE_EXTRAS.isGlobal,
  };
}
