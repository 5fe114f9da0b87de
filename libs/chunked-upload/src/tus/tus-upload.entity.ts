import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Kind of a tus upload in the concatenation extension. @publicApi */
export type TusConcatKind = 'partial' | 'final';

/**
 * What the tus protocol knows about an upload beyond the frago ledger:
 * its raw `Upload-Metadata`, whether its length is deferred, and
 * its place in a concatenation. One row per tus upload, keyed by the upload's
 * UUID; the upload itself is a row of the configured upload entity like any
 * other. Registered only when `tusPath` is set.
 * @publicApi
 */
@Entity('frago_tus_upload')
export class FragoTusUpload {
  /** The upload's UUID (same as the upload entity's `id`). */
  @PrimaryColumn({ name: 'upload_id', type: 'varchar', length: 36 })
  uploadId!: string;

  /** `Upload-Metadata` exactly as the client sent it (echoed by HEAD). */
  @Column({ type: 'varchar', length: 4096, nullable: true })
  metadata!: string | null;

  /** True until the client sends `Upload-Length` (creation-defer-length). */
  @Column({ name: 'length_deferred', type: 'boolean' })
  lengthDeferred!: boolean;

  /** `partial` or `final` (concatenation), null for a plain upload. */
  @Column({ name: 'concat', type: 'varchar', length: 8, nullable: true })
  concat!: TusConcatKind | null;

  /** For a final upload: the partial uploads' UUIDs, space-separated, in order. */
  @Column({ type: 'text', nullable: true })
  parts!: string | null;

  /** For a partial upload: the final upload that claimed it (once claimed it takes no PATCH). */
  @Index()
  @Column({ name: 'final_id', type: 'varchar', length: 36, nullable: true })
  finalId!: string | null;
}
