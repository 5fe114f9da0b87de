import { Inject, Injectable } from '@nestjs/common';
import { errorText } from '../domain/error-text';
import { randomUUID } from 'node:crypto';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import type { ChunkStorage } from '../storage/chunk-storage';

/** One dependency's state in a {@link FragoHealthReport}. @publicApi */
export interface FragoHealthCheck {
  status: 'up' | 'down' | 'unchecked';
  /** Why it is down (or what was not checked). */
  detail?: string;
  /** Local disk: free bytes on the chunk folder's file system. */
  freeBytes?: number;
}

/** Readiness of the module: the database answers and the storage takes writes. @publicApi */
export interface FragoHealthReport {
  status: 'ok' | 'error';
  database: FragoHealthCheck;
  storage: FragoHealthCheck;
}

/**
 * Readiness probe for orchestrators: runs `SELECT 1` on the
 * DataSource and, with the default local-disk storage, writes and removes a
 * probe file in the chunk folder and reports the free space (below
 * `maxChunkSize` free bytes counts as down); another storage runs its own
 * `probe()` (S3: writes and deletes an object in the bucket). Inject it in your health
 * controller or a @nestjs/terminus indicator.
 * @publicApi
 */
@Injectable()
export class FragoHealth {
  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly dataSource: DataSource,
  ) {}

  async check(): Promise<FragoHealthReport> {
    const [database, storage] = await Promise.all([this.database(), this.storage()]);
    return { status: database.status === 'down' || storage.status === 'down' ? 'error' : 'ok', database, storage };
  }

  private async database(): Promise<FragoHealthCheck> {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', detail: errorText(error) };
    }
  }

  /** A storage of the host's: its own probe (S3: write and delete an object), or `unchecked`. */
  private async probe(storage: ChunkStorage): Promise<FragoHealthCheck> {
    try {
      const probed = await storage.probe();
      if (probed === null) return { status: 'unchecked', detail: `${storage.constructor.name} is not probed` };
      return { status: 'up', ...probed };
    } catch (error) {
      const reason =
        (error as { name?: unknown } | null)?.name === 'TimeoutError' ? 'no answer within 5 s' : ((error as Error | null)?.message ?? String(error));
      return { status: 'down', detail: `${storage.constructor.name} does not take writes: ${reason}` };
    }
  }

  private async storage(): Promise<FragoHealthCheck> {
    if (this.options.storage) return this.probe(this.options.storage);
    const folder = resolve(this.options.chunkUploadPath);
    const probe = join(folder, `.frago-health-${randomUUID()}`);
    try {
      await writeFile(probe, 'ok');
      await unlink(probe);
      const stats = await statfs(folder);
      const freeBytes = stats.bavail * stats.bsize;
      if (freeBytes < this.options.maxChunkSize) return { status: 'down', detail: `${freeBytes} bytes free, less than one chunk (maxChunkSize)`, freeBytes };
      return { status: 'up', freeBytes };
    } catch (error) {
      return { status: 'down', detail: `the chunk folder is not writable: ${(error as NodeJS.ErrnoException | undefined)?.code ?? errorText(error)}` };
    }
  }
}
