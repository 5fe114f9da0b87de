import { Column, Entity, Index } from 'typeorm';
import { AbstractChunkUpload } from './abstract-chunk-upload.entity';

/**
 * The built-in upload entity (table `frago_upload`), with a plain
 * `identifier` column for `'user'` mode and string-valued custom strategies.
 * @publicApi
 */
@Entity('frago_upload')
export class ChunkUpload extends AbstractChunkUpload {
  /**
   * The owner's identifier, or null for anonymous uploads. Compared byte for
   * byte: on MySQL/MariaDB the migration `FragoByteExactKeys1764640800000`
   * gives it a binary NO PAD collation (a decorator cannot name one that is
   * valid on every database; PostgreSQL and SQLite compare bytes already),
   * and the module warns at boot when it is missing.
   */
  @Index()
  @Column({ type: 'varchar', length: 255, nullable: true })
  identifier!: string | null;
}
