import { Column, Entity, Index } from 'typeorm';
import { AbstractChunkUpload } from './abstract-chunk-upload.entity';

/**
 * The built-in upload entity (table `frago_upload`), with a plain
 * `identifier` column for `'user'` mode and string-valued custom strategies.
 * @publicApi
 */
@Entity('frago_upload')
export class ChunkUpload extends AbstractChunkUpload {
  /** The owner's identifier, or null for anonymous uploads. */
  @Index()
  @Column({ type: 'varchar', length: 255, nullable: true })
  identifier!: string | null;
}
