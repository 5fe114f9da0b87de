import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from './bigint.transformer';

/**
 * A published name claimed by one upload (table `frago_name`), so that two
 * uploads never publish under the same name, on any storage and any number
 * of instances: finalize claims a name here before `ChunkStorage.publish()`
 * and reuses its own claim when retried. The key is the SHA-256 (hex) of the
 * relative path, so names of any length fit a unique index on every
 * database. Claims are never released: a name stays taken once used.
 * @publicApi
 */
@Entity('frago_name')
export class FragoNameClaim {
  /** SHA-256 (hex) of `name`. */
  @PrimaryColumn({ name: 'name_key', type: 'varchar', length: 64 })
  key!: string;

  /** The claimed path, relative to the assembled folder (or the object prefix). */
  @Column({ type: 'varchar', length: 1024 })
  name!: string;

  /** The claiming upload's `upload_id`. */
  @Index('IDX_frago_name_upload_id')
  @Column({ name: 'upload_id', type: 'varchar', length: 36 })
  uploadId!: string;

  /** Epoch ms of the claim. */
  @Column({ name: 'claimed_at', type: 'bigint', transformer: bigintTransformer })
  claimedAt!: number;
}
