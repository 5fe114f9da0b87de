import { Inject, Injectable } from '@nestjs/common';
import { In, IsNull, type Repository } from 'typeorm';
import { UploadStore } from '../services/upload-store';
import { FragoTusUpload } from './tus-upload.entity';

/** Injection token of the tus table's repository (internal). */
export const FRAGO_TUS_REPOSITORY = Symbol('FRAGO:TUS_REPOSITORY');

/** Database access to `frago_tus_upload`, serialised with the ledger on SQLite (internal). */
@Injectable()
export class TusLedger {
  constructor(
    @Inject(FRAGO_TUS_REPOSITORY) private readonly rows: Repository<FragoTusUpload>,
    private readonly store: UploadStore,
  ) {}

  insert(row: FragoTusUpload): Promise<void> {
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
