import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from './bigint.transformer';

/**
 * One chunk of an upload (table `frago_chunk`): the inclusive byte range
 * `[start, end]`. A row is created when a request reserves its range and
 * counts once `committed` is true, i.e. after its bytes are durably stored.
 * Unique per upload and start.
 * @publicApi
 */
@Entity('frago_chunk')
@Index('UQ_frago_chunk_upload_start', ['uploadId', 'start'], { unique: true })
export class ChunkedUploadChunk {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** The owning upload's `upload_id`. */
  @Column({ name: 'upload_id', type: 'varchar', length: 36 })
  uploadId!: string;

  @Column({ name: 'range_start', type: 'bigint', transformer: bigintTransformer })
  start!: number;

  /** Inclusive. */
  @Column({ name: 'range_end', type: 'bigint', transformer: bigintTransformer })
  end!: number;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  size!: number;

  /** True once the bytes are durably stored; false while a request writes them. */
  @Column({ type: 'boolean' })
  committed!: boolean;

  /** Epoch ms until which an uncommitted reservation holds its range. */
  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: bigintTransformer })
  leaseUntil!: number | null;
}
