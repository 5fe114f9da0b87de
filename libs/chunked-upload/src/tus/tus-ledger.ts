import { Inject, Injectable } from '@nestjs/common';
import { In, IsNull, type Repository } from 'typeorm';
import { FRAGO_CHUNK_REPOSITORY } from '../chunked-upload.constants';
import type { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';
import { UploadStatus } from '../entities/upload-status';
import { UploadStore } from '../services/upload-store';
import { UploadRemoval, type UploadRemovalListener } from '../services/upload-removal';
import { FragoTusUpload } from './tus-upload.entity';
import { contiguousOffset } from './tus-offset';

/** Injection token of the tus table's repository (internal). */
export const FRAGO_TUS_REPOSITORY = Symbol('FRAGO:TUS_REPOSITORY');

/** The values of a new `frago_tus_upload` row. */
export type TusRowValues = { [K in keyof FragoTusUpload]: FragoTusUpload[K] };

/** Database access to `frago_tus_upload`, serialised with the ledger on SQLite (internal). */
@Injectable()
export class TusLedger implements UploadRemovalListener {
  constructor(
    @Inject(FRAGO_TUS_REPOSITORY) private readonly rows: Repository<FragoTusUpload>,
    @Inject(FRAGO_CHUNK_REPOSITORY) private readonly chunks: Repository<ChunkedUploadChunk>,
    private readonly store: UploadStore,
    removal: UploadRemoval,
  ) {
    // One ledger: an upload deleted or expired through either protocol loses its tus row too.
    removal.listen(this);
  }

  uploadRemoved(uploadId: string): Promise<void> {
    return this.remove(uploadId);
  }

  /** Rows whose upload is gone or expired (left by a crash between the two deletes). */
  sweepRemoved(): Promise<void> {
    return this.store.exclusively(async () => {
      const live = this.store.uploads
        .createQueryBuilder('upload')
        .select('upload.id')
        .where('upload.status IN (:...frago_live)', { frago_live: [UploadStatus.InProgress, UploadStatus.Complete] });
      await this.rows.createQueryBuilder().delete().where(`upload_id NOT IN (${live.getQuery()})`).setParameters(live.getParameters()).execute();
    });
  }

  insert(row: TusRowValues): Promise<void> {
    return this.store.exclusively(async () => {
      await this.rows.insert(row);
    });
  }

  find(uploadId: string): Promise<FragoTusUpload | null> {
    return this.store.exclusively(() => this.rows.findOne({ where: { uploadId } }));
  }

  findMany(uploadIds: string[]): Promise<FragoTusUpload[]> {
    return this.store.exclusively(() => this.rows.find({ where: { uploadId: In(uploadIds) } }));
  }

  /**
   * The tus offset: the end of the run of committed bytes from 0. One
   * aggregate row instead of every chunk row: committed chunks never
   * overlap, so when their sizes add up to the last end + 1 they cover
   * `[0, end]` without a gap (always so for an upload written by tus alone).
   * Gaps (frago PUTs at other ranges) take the full list.
   */
  async offset(uploadId: string): Promise<number> {
    const row = await this.store.exclusively(() =>
      this.chunks
        .createQueryBuilder('chunk')
        .select('SUM(chunk.size)', 'bytes')
        .addSelect('MAX(chunk.end)', 'last')
        .where({ uploadId, committed: true })
        .getRawOne<{ bytes: string | number | null; last: string | number | null }>(),
    );
    const bytes = Number(row?.bytes ?? 0);
    if (bytes === Number(row?.last ?? -1) + 1) return bytes;
    return contiguousOffset(await this.store.committedChunks(uploadId));
  }

  /** creation-defer-length: the upload's length is `length` from now on. */
  async settleLength(uploadId: string, length: number): Promise<void> {
    await this.store.setTotalSize(uploadId, length);
    await this.declareLength(uploadId);
  }

  /** The length is now known (true for exactly one of concurrent callers). */
  declareLength(uploadId: string): Promise<boolean> {
    return this.store.exclusively(async () => {
      const result = await this.rows.update({ uploadId, lengthDeferred: true }, { lengthDeferred: false });
      return result.affected === 1;
    });
  }

  /**
   * Claims unclaimed partial uploads for a final upload: a conditional
   * UPDATE, so two finals racing over one partial cannot both have it.
   * Returns how many rows were claimed.
   */
  claimParts(finalId: string, partIds: string[]): Promise<number> {
    return this.store.exclusively(async () => {
      const result = await this.rows.update({ uploadId: In(partIds), concat: 'partial', finalId: IsNull() }, { finalId });
      return result.affected ?? 0;
    });
  }

  /** Undoes a claim that did not get every part. */
  releaseParts(finalId: string): Promise<void> {
    return this.store.exclusively(async () => {
      await this.rows.update({ finalId }, { finalId: null });
    });
  }

  remove(uploadId: string): Promise<void> {
    return this.store.exclusively(async () => {
      await this.rows.delete({ uploadId });
    });
  }
}
