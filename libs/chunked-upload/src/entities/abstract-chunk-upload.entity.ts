import { Column, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer, epochMsTransformer } from './bigint.transformer';
import { UploadStatus } from './upload-status';
import { safeFilename } from '../domain/safe-filename';

/**
 * Columns every upload entity has. Not an entity itself: the built-in
 * `ChunkUpload` extends it, and so can a host's own entity (for example one
 * with a relation to a `Device`), passed as the `uploadEntity` extra.
 * @publicApi
 */
export abstract class AbstractChunkUpload {
  /** The upload's UUID (frago's `upload_id`). */
  @PrimaryColumn({ name: 'upload_id', type: 'varchar', length: 36 })
  id!: string;

  /** The client's file name exactly as sent; never used as a path. */
  @Column({ type: 'varchar', length: 255 })
  filename!: string;

  /** Size of the whole file in bytes. */
  @Column({ name: 'total_size', type: 'bigint', transformer: bigintTransformer })
  totalSize!: number;

  /** Stored lifecycle state; see `effectiveStatus()` for the time-aware one. */
  @Index()
  @Column({ type: 'varchar', length: 16 })
  status!: UploadStatus;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMsTransformer })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'bigint', nullable: true, transformer: epochMsTransformer })
  completedAt!: Date | null;

  @Index()
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMsTransformer })
  expiresAt!: Date;

  /** Epoch ms until which one request holds the finalization claim (internal). */
  @Column({ name: 'finalizing_until', type: 'bigint', nullable: true, transformer: bigintTransformer })
  finalizingUntil!: number | null;

  /** Whole-file checksum verified at completion (hex). */
  @Column({ type: 'varchar', length: 256, nullable: true })
  checksum!: string | null;

  /** Algorithm of `checksum` (any node:crypto hash name; up to 64 characters, as finalize accepts). */
  @Column({ name: 'checksum_algo', type: 'varchar', length: 64, nullable: true })
  checksumAlgo!: string | null;

  /** Path of the published file, relative to `assembledPath`, once complete. */
  @Column({ name: 'assembled_name', type: 'varchar', length: 1024, nullable: true })
  assembledName!: string | null;

  /**
   * Where the assembled file goes, relative to the `assembledPath` folder.
   * Override to file uploads by owner or date; whatever it returns is
   * sanitised segment by segment and confined to that folder, and an
   * existing file is never overwritten (a numbered name is chosen instead).
   */
  assembledPath(): string {
    return safeFilename(this.filename);
  }

  /** `expired` when the upload is unfinished past `expiresAt`, else the stored status. */
  effectiveStatus(now: number = Date.now()): UploadStatus {
    if (this.status === UploadStatus.InProgress && this.expiresAt.getTime() <= now) return UploadStatus.Expired;
    return this.status;
  }
}
