import type { EntityManager, FindOptionsWhere, Repository } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { DataSource, Raw } from 'typeorm';
import { AbstractChunkUpload } from '../../entities/abstract-chunk-upload.entity';
import { ChunkedUploadChunk } from '../../entities/chunked-upload-chunk.entity';
import { UploadStatus } from '../../entities/upload-status';
import { withNamedLock } from '../owner-lock';
import type { SqliteQueue } from './sqlite-queue';

/** Count and reserved bytes of one owner's uploads in progress. */
export interface ActiveUsage {
  count: number;
  bytes: number;
}

type UpdateQuery = ReturnType<UploadRecords['updateQuery']>;

/**
 * The upload rows: insert (quota-admitted), look up, list, and the
 * conditional UPDATEs that change an upload's state, each true for exactly
 * one of any number of concurrent callers on any instance.
 */
export class UploadRecords {
  /** The statement of `lockUploadState()` and the columns it reads, built on first use. */
  private stateQuery: { query: string; columns: ColumnMetadata[] } | null = null;

  constructor(
    readonly uploads: Repository<AbstractChunkUpload>,
    private readonly chunks: Repository<ChunkedUploadChunk>,
    private readonly dataSource: DataSource,
    private readonly queue: SqliteQueue,
  ) {}

  /** A fresh, unsaved upload entity of the configured class. */
  newUpload(): AbstractChunkUpload {
    return this.uploads.create();
  }

  insertUpload(upload: AbstractChunkUpload): Promise<void> {
    return this.queue.exclusive(async () => {
      await this.uploads.insert(upload);
    });
  }

  findUpload(id: string, owner: FindOptionsWhere<AbstractChunkUpload>): Promise<AbstractChunkUpload | null> {
    return this.queue.exclusive(() => this.uploads.findOne({ where: { ...owner, id } }));
  }

  listUploads(owner: FindOptionsWhere<AbstractChunkUpload>, status: UploadStatus | undefined, limit: number, offset: number): Promise<AbstractChunkUpload[]> {
    const now = Date.now();
    const live = Raw((column) => `${column} > :now`, { now });
    const past = Raw((column) => `${column} <= :now`, { now });
    const byStatus: Record<UploadStatus, FindOptionsWhere<AbstractChunkUpload>[]> = {
      in_progress: [{ ...owner, status: UploadStatus.InProgress, expiresAt: live }],
      complete: [{ ...owner, status: UploadStatus.Complete }],
      expired: [
        { ...owner, status: UploadStatus.Expired },
        { ...owner, status: UploadStatus.InProgress, expiresAt: past },
      ],
    };
    const where = status ? byStatus[status] : [owner];
    return this.queue.exclusive(() => this.uploads.find({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset }));
  }

  /** Uploads in progress (not expired) of one owner: their count and reserved bytes. */
  activeUsage(owner: FindOptionsWhere<AbstractChunkUpload>): Promise<ActiveUsage> {
    return this.queue.exclusive(() => usageOf(this.uploads, owner));
  }

  /**
   * Inserts `upload` unless `admit` throws when shown the owner's usage.
   * Starts of one owner run one at a time on every instance (a named lock),
   * so concurrent starts cannot all pass the same quota check.
   */
  insertUploadAdmitted(upload: AbstractChunkUpload, owner: FindOptionsWhere<AbstractChunkUpload>, admit: (usage: ActiveUsage) => void): Promise<void> {
    return this.queue.exclusive(() =>
      withNamedLock(this.dataSource, `owner:${JSON.stringify(owner)}`, async (manager) => {
        admit(await usageOf(manager.getRepository(this.uploads.target), owner));
        await manager.insert(this.uploads.target, upload);
      }),
    );
  }

  /** The upload row, locked for the rest of the transaction (elsewhere than on SQLite, whose transactions run alone). */
  async lockUpload(manager: EntityManager, uploadId: string): Promise<AbstractChunkUpload | null> {
    const query = manager.createQueryBuilder(this.uploads.target, 'upload').where('upload.id = :uploadId', { uploadId });
    if (!this.queue.sqlite) query.setLock('pessimistic_write');
    return await query.getOne();
  }

  /**
   * What a chunk reservation needs of the upload row (its status, expiry and
   * finalization claim), locked as `lockUpload()` locks it, by one statement
   * written once per data source instead of a query built per chunk. The
   * values are hydrated by the entity's own column metadata (driver
   * conversion, transformers) into an entity of the configured class.
   *
   * On PostgreSQL the same statement turns synchronous commit off for the rest
   * of the caller's transaction (`set_config(..., true)`, as `SET LOCAL` would,
   * without a round trip of its own): a reservation lost in a crash is
   * harmless, and the chunk's own commit later waits for the WAL flush (which
   * flushes the reservation too).
   */
  async lockUploadState(manager: EntityManager, uploadId: string): Promise<AbstractChunkUpload | null> {
    const { query, columns } = (this.stateQuery ??= this.buildStateQuery());
    const rows = await manager.query<Array<Record<string, unknown>>>(query, [uploadId]);
    if (rows.length === 0) return null;
    const upload = this.uploads.create();
    columns.forEach((column, i) => column.setEntityValue(upload, this.dataSource.driver.prepareHydratedValue(rows[0][`s${i}`], column)));
    return upload;
  }

  private buildStateQuery(): { query: string; columns: ColumnMetadata[] } {
    const driver = this.dataSource.driver;
    const metadata = this.uploads.metadata;
    const column = (property: string): ColumnMetadata => {
      const found = metadata.findColumnWithPropertyName(property);
      if (!found) throw new Error(`The upload entity has no "${property}" column`);
      return found;
    };
    const columns = ['status', 'expiresAt', 'finalizingUntil'].map(column);
    const selected = columns.map((c, i) => `${driver.escape(c.databaseName)} AS ${driver.escape(`s${i}`)}`).join(', ');
    const marker = this.dataSource.options.type === 'postgres' ? '$1' : '?';
    const lock = this.queue.sqlite ? '' : ' FOR UPDATE';
    const lazyCommit = this.dataSource.options.type === 'postgres' ? `, set_config('synchronous_commit', 'off', true) AS ${driver.escape('lazy_commit')}` : '';
    const query = `SELECT ${selected}${lazyCommit} FROM ${driver.escape(metadata.tablePath)} WHERE ${driver.escape(column('id').databaseName)} = ${marker}${lock}`;
    return { query, columns };
  }

  /** Sets the length of an upload in progress whose length was deferred (tus). */
  setTotalSize(uploadId: string, totalSize: number): Promise<boolean> {
    return this.conditionalUpdate(uploadId, { totalSize }, (q) => q);
  }

  /** Marks a claimed upload complete and drops its chunk rows (a complete upload keeps no chunk records). */
  completeUpload(uploadId: string, fields: { checksum: string | null; checksumAlgo: string | null; assembledName: string }): Promise<boolean> {
    return this.queue.exclusive(async () => {
      const completed = await this.conditionalUpdateNow(
        uploadId,
        { status: UploadStatus.Complete, completedAt: new Date(), finalizingUntil: null, ...fields },
        (q) => q,
      );
      if (completed) await this.chunks.delete({ uploadId });
      return completed;
    });
  }

  /** Expires one upload if it is still in progress, past its time and not being finalized. */
  markExpired(uploadId: string): Promise<boolean> {
    const now = Date.now();
    return this.conditionalUpdate(uploadId, { status: UploadStatus.Expired }, (q) =>
      q.andWhere('expires_at <= :now', { now }).andWhere('(finalizing_until IS NULL OR finalizing_until < :now)', { now }),
    );
  }

  /** Uploads in progress past their expiry (to be expired one by one). */
  expiredCandidates(limit: number): Promise<AbstractChunkUpload[]> {
    const now = Date.now();
    return this.queue.exclusive(() =>
      this.uploads.find({ where: { status: UploadStatus.InProgress, expiresAt: Raw((column) => `${column} <= :now`, { now }) }, take: limit }),
    );
  }

  /** Deletes an upload and its chunk rows, unless it is being finalized. */
  deleteUpload(uploadId: string): Promise<'deleted' | 'finalizing' | 'gone'> {
    return this.queue.transaction(async (manager) => {
      const upload = await this.lockUpload(manager, uploadId);
      if (!upload) return 'gone';
      if (upload.status === UploadStatus.InProgress && (upload.finalizingUntil ?? 0) > Date.now()) return 'finalizing';
      await manager.delete(ChunkedUploadChunk, { uploadId });
      await manager.delete(this.uploads.target, { id: uploadId });
      return 'deleted';
    });
  }

  /** UPDATE of an upload in progress, narrowed by `extra`: true when it changed the row. */
  conditionalUpdate(uploadId: string, values: Record<string, unknown>, extra: (query: UpdateQuery) => UpdateQuery): Promise<boolean> {
    return this.queue.exclusive(() => this.conditionalUpdateNow(uploadId, values, extra));
  }

  private async conditionalUpdateNow(uploadId: string, values: Record<string, unknown>, extra: (query: UpdateQuery) => UpdateQuery): Promise<boolean> {
    const query = extra(
      this.updateQuery(values).where('upload_id = :uploadId', { uploadId }).andWhere('status = :inProgress', { inProgress: UploadStatus.InProgress }),
    );
    const result = await query.execute();
    return result.affected === 1;
  }

  private updateQuery(values: Record<string, unknown>) {
    return this.uploads.createQueryBuilder().update().set(values);
  }
}

async function usageOf(uploads: Repository<AbstractChunkUpload>, owner: FindOptionsWhere<AbstractChunkUpload>): Promise<ActiveUsage> {
  const now = Date.now();
  const rows = await uploads.find({
    select: { id: true, totalSize: true },
    where: { ...owner, status: UploadStatus.InProgress, expiresAt: Raw((column) => `${column} > :now`, { now }) },
  });
  return { count: rows.length, bytes: rows.reduce((sum, row) => sum + row.totalSize, 0) };
}
