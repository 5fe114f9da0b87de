import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Between, DataSource, type EntityManager, type QueryRunner, type FindOptionsWhere, In, LessThan, Raw, type Repository } from 'typeorm';
import { FRAGO_CHUNK_REPOSITORY, FRAGO_NAME_REPOSITORY, FRAGO_UPLOAD_REPOSITORY } from '../chunked-upload.constants';
import { FragoNameClaim } from '../entities/frago-name-claim.entity';
import { nameKey } from '../migrations/add-frago-name-claims';
import { isByteExactCollation } from '../migrations/frago-byte-exact-keys';
import { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';
import { UploadStatus } from '../entities/upload-status';
import type { ByteRange } from '../protocol/wire.types';
import { hotPathSql, reservationSql, type HotPathSql } from './hot-path-sql';
import { withNamedLock } from './owner-lock';

/** Outcome of trying to reserve a chunk's byte range. */
export type Reservation =
  | { kind: 'reserved'; id: string; /** A stale reservation (its writer may be stalled, not dead) was replaced. */ tookOver: boolean }
  | { kind: 'duplicate' }
  | { kind: 'twin' }
  | { kind: 'overlap'; conflicting: ByteRange }
  | { kind: 'not-writable'; status: UploadStatus | 'finalizing' | 'gone' };

/**
 * All database access of the module. The database arbitrates every race
 * between instances sharing it: a row lock on the upload serialises range reservations,
 * conditional UPDATEs claim finalization and expiry. On SQLite, whose
 * TypeORM driver shares one connection, operations are also serialised in
 * process so that no statement runs inside another request's transaction.
 */
@Injectable()
export class UploadStore implements OnModuleInit {
  private readonly sqlite: boolean;
  private hotPathSql: HotPathSql | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(FRAGO_UPLOAD_REPOSITORY) readonly uploads: Repository<AbstractChunkUpload>,
    @Inject(FRAGO_CHUNK_REPOSITORY) private readonly chunks: Repository<ChunkedUploadChunk>,
    @Inject(FRAGO_NAME_REPOSITORY) private readonly names: Repository<FragoNameClaim>,
    private readonly dataSource: DataSource,
  ) {
    this.sqlite = ['sqlite', 'better-sqlite3', 'capacitor', 'expo', 'react-native', 'nativescript', 'sqljs'].includes(dataSource.options.type);
  }

  /**
   * On MySQL/MariaDB, warns when a key column compares ignoring case, accents
   * or trailing spaces (a schema made by `synchronize`, or before
   * `FragoByteExactKeys1764640800000`): owners would then see each other's uploads.
   */
  async onModuleInit(): Promise<void> {
    const type = this.dataSource.options.type;
    if (type !== 'mysql' && type !== 'mariadb') return;
    const keys = [
      ...this.uploads.metadata.columns.filter((column) => column.isPrimary || column.propertyName === 'identifier').map((column) => [this.uploads.metadata.tableName, column.databaseName]),
      [this.chunks.metadata.tableName, this.chunks.metadata.findColumnWithPropertyName('uploadId')?.databaseName ?? 'upload_id'],
    ];
    const loose: string[] = [];
    for (const [table, column] of keys) {
      const rows = (await this.dataSource.query(
        'SELECT COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
        [table, column],
      )) as Array<{ collation: string | null }>;
      const collation = rows[0]?.collation;
      if (collation && !isByteExactCollation(collation)) loose.push(`${table}.${column} (${collation})`);
    }
    if (loose.length > 0) {
      new Logger('nestjs-frago').warn(
        `These key columns compare ignoring case, accents or trailing spaces, so distinct identifiers can match: ${loose.join(', ')}. ` +
          'Run fragoMigrations (FragoByteExactKeys1764640800000), or give them a binary NO PAD collation (utf8mb4_nopad_bin on MariaDB, utf8mb4_0900_bin on MySQL 8).',
      );
    }
  }

  /** Runs `work` alone on SQLite; directly elsewhere. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (!this.sqlite) return work();
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.exclusive(() => retryOnDeadlock(() => this.dataSource.transaction(work)));
  }

  /** A fresh, unsaved upload entity of the configured class. */
  newUpload(): AbstractChunkUpload {
    return this.uploads.create();
  }

  insertUpload(upload: AbstractChunkUpload): Promise<void> {
    return this.exclusive(async () => {
      await this.uploads.insert(upload as Parameters<Repository<AbstractChunkUpload>['insert']>[0]);
    });
  }

  findUpload(id: string, owner: FindOptionsWhere<AbstractChunkUpload>): Promise<AbstractChunkUpload | null> {
    return this.exclusive(() => this.uploads.findOne({ where: { ...owner, id } }));
  }

  listUploads(owner: FindOptionsWhere<AbstractChunkUpload>, status: UploadStatus | undefined, limit: number, offset: number): Promise<AbstractChunkUpload[]> {
    const now = Date.now();
    const live = Raw((column) => `${column} > :now`, { now });
    const past = Raw((column) => `${column} <= :now`, { now });
    const byStatus: Record<UploadStatus, FindOptionsWhere<AbstractChunkUpload>[]> = {
      in_progress: [{ ...owner, status: UploadStatus.InProgress, expiresAt: live }],
      complete: [{ ...owner, status: UploadStatus.Complete }],
      expired: [{ ...owner, status: UploadStatus.Expired }, { ...owner, status: UploadStatus.InProgress, expiresAt: past }],
    };
    const where = status ? byStatus[status] : [owner];
    return this.exclusive(() => this.uploads.find({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset }));
  }

  /** Uploads in progress (not expired) of one owner: their count and reserved bytes. */
  activeUsage(owner: FindOptionsWhere<AbstractChunkUpload>): Promise<ActiveUsage> {
    return this.exclusive(() => usageOf(this.uploads, owner));
  }

  /**
   * Inserts `upload` unless `admit` throws when shown the owner's usage.
   * Starts of one owner run one at a time on every instance (a named lock),
   * so concurrent starts cannot all pass the same quota check.
   */
  insertUploadAdmitted(upload: AbstractChunkUpload, owner: FindOptionsWhere<AbstractChunkUpload>, admit: (usage: ActiveUsage) => void): Promise<void> {
    return this.exclusive(() =>
      withNamedLock(this.dataSource, `owner:${JSON.stringify(owner)}`, async (manager) => {
        admit(await usageOf(manager.getRepository(this.uploads.target), owner));
        await manager.insert(this.uploads.target, upload as Parameters<Repository<AbstractChunkUpload>['insert']>[0]);
      }),
    );
  }

  committedChunks(uploadId: string): Promise<ChunkedUploadChunk[]> {
    return this.exclusive(() => this.chunks.find({ where: { uploadId, committed: true }, order: { start: 'ASC' } }));
  }

  /** Bytes of the committed chunks of each upload, in one query (committed chunks never overlap). */
  async committedBytes(uploadIds: string[]): Promise<Map<string, number>> {
    if (uploadIds.length === 0) return new Map();
    const rows = await this.exclusive(() =>
      this.chunks
        .createQueryBuilder('chunk')
        .select('chunk.uploadId', 'uploadId')
        .addSelect('SUM(chunk.size)', 'bytes')
        .where({ uploadId: In(uploadIds), committed: true })
        .groupBy('chunk.uploadId')
        .getRawMany<{ uploadId: string; bytes: string | number }>(),
    );
    return new Map(rows.map((row) => [row.uploadId, Number(row.bytes)]));
  }

  /**
   * Reserves `[start, end]` for one writer, under a lock on the upload row so
   * that two overlapping reservations can never both succeed, on one
   * instance or many. Reservations whose lease ran out (their writer died)
   * are dropped.
   */
  reserveChunk(uploadId: string, start: number, end: number, leaseMs: number): Promise<Reservation> {
    return this.transaction(async (manager) => {
      // A reservation lost in a crash is harmless (its chunk never counted), so its commit
      // need not wait for the WAL flush; the chunk's own commit later does (and flushes this too).
      if (this.dataSource.options.type === 'postgres') await manager.query('SET LOCAL synchronous_commit TO OFF');
      const now = Date.now();
      const upload = await this.lockUpload(manager, uploadId);
      const state = writableState(upload, now);
      if (state) return { kind: 'not-writable', status: state };
      const id = randomUUID();
      if (await this.insertIfFree(manager, id, uploadId, start, end, now + leaseMs)) return { kind: 'reserved', id, tookOver: false };
      return this.classifyConflict(manager, id, uploadId, start, end, now + leaseMs, now);
    });
  }

  /**
   * The hot path, one statement: inserts the reservation unless a chunk row
   * (committed, reserved, or stale) overlaps the range. The caller holds the
   * upload's row lock, so the check and the insert cannot interleave with
   * another writer's, and the unique (upload, start) index is never hit.
   *
   * Rows of one upload never overlap one another (each was inserted by this
   * check), so only one row can matter: the one with the greatest start
   * <= END, found by a MAX over the (upload, start) index, overlaps exactly
   * when its end >= START. That is two index lookups, O(log n) in the number
   * of chunks, on every database (see `reservationSql`).
   */
  private async insertIfFree(manager: EntityManager, id: string, uploadId: string, start: number, end: number, leaseUntil: number): Promise<boolean> {
    const { query, params } = reservationSql(this.sql, { id, uploadId, start, end, leaseUntil });
    const result = await (manager.queryRunner as QueryRunner).query(query, params, true);
    return result.affected === 1;
  }

  /** The rare path: why the range is not free (duplicate, twin, overlap), or clear stale reservations and insert. */
  private async classifyConflict(manager: EntityManager, id: string, uploadId: string, start: number, end: number, leaseUntil: number, now: number): Promise<Reservation> {
    const size = end - start + 1;
    // Rows never overlap one another: the overlapping ones are those starting inside the
    // range, plus at most one starting before it (the greatest start < START). Both are
    // index range scans bounded by what overlaps, never by the upload's chunk count.
    const inside = await manager.find(ChunkedUploadChunk, { where: { uploadId, start: Between(start, end) } });
    const before = await manager.findOne(ChunkedUploadChunk, { where: { uploadId, start: LessThan(start) }, order: { start: 'DESC' } });
    const overlapping = before && before.end >= start ? [before, ...inside] : inside;
    const live = overlapping.filter((chunk) => chunk.committed || (chunk.leaseUntil ?? 0) > now);
    const twin = live.find((chunk) => chunk.start === start && chunk.size === size);
    if (twin) return twin.committed ? { kind: 'duplicate' } : { kind: 'twin' };
    if (live.length > 0) return { kind: 'overlap', conflicting: { start: live[0].start, end: live[0].end } };
    const stale = overlapping.map((chunk) => chunk.id);
    if (stale.length > 0) await manager.delete(ChunkedUploadChunk, { id: In(stale) });
    await manager.insert(ChunkedUploadChunk, { id, uploadId, start, end, size, committed: false, leaseUntil });
    return { kind: 'reserved', id, tookOver: stale.length > 0 };
  }

  private async lockUpload(manager: EntityManager, uploadId: string): Promise<AbstractChunkUpload | null> {
    const query = manager.createQueryBuilder(this.uploads.target, 'upload').where('upload.id = :uploadId', { uploadId });
    if (!this.sqlite) query.setLock('pessimistic_write');
    return (await query.getOne()) as AbstractChunkUpload | null;
  }

  /** Quoted names and dialect bits for the hand-written hot-path SQL, from the entity metadata. */
  private get sql(): HotPathSql {
    this.hotPathSql ??= hotPathSql(this.dataSource, this.chunks);
    return this.hotPathSql;
  }

  /**
   * Whether a live, uncommitted reservation of exactly `[start, end]` holds
   * the range: one read by the (upload, start) index, without a lock or a
   * transaction (waiting twins ask this, see `TwinWaits`).
   */
  rangeHeld(uploadId: string, start: number, end: number, now: number): Promise<boolean> {
    return this.exclusive(async () => {
      const row = await this.chunks.findOne({ where: { uploadId, start }, select: { id: true, end: true, committed: true, leaseUntil: true } });
      return row !== null && !row.committed && row.end === end && (row.leaseUntil ?? 0) > now;
    });
  }

  /** Makes a reservation count. False when it is gone (upload deleted, or its lease was taken over). */
  commitChunk(reservationId: string): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.chunks.update({ id: reservationId, committed: false }, { committed: true, leaseUntil: null });
      return result.affected === 1;
    });
  }

  /**
   * Makes a reservation count with the range it actually got: `[start, end]`
   * shrunk to `end` (a tus PATCH that stored fewer bytes than it reserved).
   * False when the reservation is gone.
   */
  commitChunkUpTo(reservationId: string, start: number, end: number): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await retryOnDeadlock(() => this.chunks.update({ id: reservationId, committed: false }, { end, size: end - start + 1, committed: true, leaseUntil: null }));
      return result.affected === 1;
    });
  }

  /** Sets the length of an upload in progress whose length was deferred (tus). */
  setTotalSize(uploadId: string, totalSize: number): Promise<boolean> {
    return this.conditionalUpdate(uploadId, { totalSize }, (q) => q);
  }

  /** Runs other module queries (e.g. the tus table) under the same SQLite serialisation as the ledger's. */
  exclusively<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive(work);
  }

  releaseChunk(reservationId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.chunks.delete({ id: reservationId, committed: false });
    });
  }

  /** Extends a reservation's lease; false when the reservation is gone (taken over, or the upload deleted). */
  renewLease(reservationId: string, until: number): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.chunks.update({ id: reservationId, committed: false }, { leaseUntil: until });
      return result.affected === 1;
    });
  }

  /**
   * Claims the published name `name` for `uploadId`: true when it is now this
   * upload's (claimed now, or by an earlier attempt of the same upload), false
   * when another upload holds it. One primary-key insert, so exactly one of
   * any number of concurrent claimers wins, on every instance.
   */
  claimName(uploadId: string, name: string): Promise<boolean> {
    const key = nameKey(name);
    return this.exclusive(async () => {
      await this.names.createQueryBuilder().insert().values({ key, name, uploadId, claimedAt: Date.now() }).orIgnore().execute();
      const claim = await this.names.findOne({ where: { key }, select: { key: true, uploadId: true } });
      return claim?.uploadId === uploadId;
    });
  }

  /** Conditional UPDATE: true for exactly one of any number of concurrent callers (only one finalize may assemble an upload). */
  claimFinalize(uploadId: string, until: number): Promise<boolean> {
    const now = Date.now();
    return this.conditionalUpdate(uploadId, { finalizingUntil: until }, (q) =>
      q.andWhere('expires_at > :now', { now }).andWhere('(finalizing_until IS NULL OR finalizing_until < :now)', { now }),
    );
  }

  /**
   * Extends a finalize claim from `held` (the `until` it was claimed or last
   * renewed with) to `until`. False when the claim is no longer this
   * finalizer's: it ran out and another took it, or it was released.
   */
  renewFinalize(uploadId: string, held: number, until: number): Promise<boolean> {
    return this.conditionalUpdate(uploadId, { finalizingUntil: until }, (q) => q.andWhere('finalizing_until = :held', { held }));
  }

  releaseFinalize(uploadId: string): Promise<boolean> {
    return this.conditionalUpdate(uploadId, { finalizingUntil: null }, (q) => q);
  }

  /** Marks a claimed upload complete and drops its chunk rows (a complete upload keeps no chunk records). */
  completeUpload(uploadId: string, fields: { checksum: string | null; checksumAlgo: string | null; assembledName: string }): Promise<boolean> {
    return this.exclusive(async () => {
      const completed = await this.conditionalUpdateNow(uploadId, {
        status: UploadStatus.Complete,
        completedAt: new Date(),
        finalizingUntil: null,
        ...fields,
      }, (q) => q);
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

  /** Ids of uploads in progress past their expiry (to be expired one by one). */
  async expiredCandidates(limit: number): Promise<AbstractChunkUpload[]> {
    const now = Date.now();
    return this.exclusive(() =>
      this.uploads.find({
        where: { status: UploadStatus.InProgress, expiresAt: Raw((column) => `${column} <= :now`, { now }) },
        take: limit,
      }),
    );
  }

  /** Chunk rows of uploads that are no longer in progress (left behind by an interrupted sweep). */
  deleteChunks(uploadId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.chunks.delete({ uploadId });
    });
  }

  /** Deletes an upload and its chunk rows, unless it is being finalized. */
  deleteUpload(uploadId: string): Promise<'deleted' | 'finalizing' | 'gone'> {
    return this.transaction(async (manager) => {
      const upload = await this.lockUpload(manager, uploadId);
      if (!upload) return 'gone';
      if (upload.status === UploadStatus.InProgress && (upload.finalizingUntil ?? 0) > Date.now()) return 'finalizing';
      await manager.delete(ChunkedUploadChunk, { uploadId });
      await manager.delete(this.uploads.target, { id: uploadId });
      return 'deleted';
    });
  }

  private conditionalUpdate(
    uploadId: string,
    values: Record<string, unknown>,
    extra: (query: ReturnType<UploadStore['updateQuery']>) => ReturnType<UploadStore['updateQuery']>,
  ): Promise<boolean> {
    return this.exclusive(() => this.conditionalUpdateNow(uploadId, values, extra));
  }

  private async conditionalUpdateNow(
    uploadId: string,
    values: Record<string, unknown>,
    extra: (query: ReturnType<UploadStore['updateQuery']>) => ReturnType<UploadStore['updateQuery']>,
  ): Promise<boolean> {
    const query = extra(this.updateQuery(values).where('upload_id = :uploadId', { uploadId }).andWhere('status = :inProgress', { inProgress: UploadStatus.InProgress }));
    const result = await query.execute();
    return result.affected === 1;
  }

  private updateQuery(values: Record<string, unknown>) {
    return this.uploads.createQueryBuilder().update().set(values);
  }
}

/** Count and reserved bytes of one owner's uploads in progress. */
export interface ActiveUsage {
  count: number;
  bytes: number;
}

async function usageOf(uploads: Repository<AbstractChunkUpload>, owner: FindOptionsWhere<AbstractChunkUpload>): Promise<ActiveUsage> {
  const now = Date.now();
  const rows = await uploads.find({
    select: { id: true, totalSize: true },
    where: { ...owner, status: UploadStatus.InProgress, expiresAt: Raw((column) => `${column} > :now`, { now }) },
  });
  return { count: rows.length, bytes: rows.reduce((sum, row) => sum + row.totalSize, 0) };
}

/** Why an upload takes no chunks now, or null when it does. */
function writableState(upload: AbstractChunkUpload | null, now: number): UploadStatus | 'finalizing' | 'gone' | null {
  if (!upload) return 'gone';
  const status = upload.effectiveStatus(now);
  if (status !== UploadStatus.InProgress) return status;
  if ((upload.finalizingUntil ?? 0) > now) return 'finalizing';
  return null;
}

const DEADLOCK_RETRIES = 4;

/**
 * Runs `work` again when the database chose it as a deadlock victim (MySQL/
 * MariaDB ER_LOCK_DEADLOCK, whose gap locks on the chunk index can cross
 * uploads; PostgreSQL 40P01): the victim's transaction was rolled back whole,
 * so repeating it is safe.
 */
async function retryOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const driver = (error as { driverError?: { code?: unknown; errno?: unknown } } | null)?.driverError ?? (error as { code?: unknown; errno?: unknown } | null);
      const deadlock = driver?.code === 'ER_LOCK_DEADLOCK' || driver?.errno === 1213 || driver?.code === '40P01';
      if (!deadlock || attempt >= DEADLOCK_RETRIES) throw error;
    }
  }
}
