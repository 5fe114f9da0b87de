import { randomUUID } from 'node:crypto';
import { Between, DataSource, In, LessThan, type EntityManager, type QueryRunner, type Repository } from 'typeorm';
import type { AbstractChunkUpload } from '../../entities/abstract-chunk-upload.entity';
import { ChunkedUploadChunk } from '../../entities/chunked-upload-chunk.entity';
import { UploadStatus } from '../../entities/upload-status';
import type { ByteRange } from '../../protocol/wire.types';
import { hotPathSql, reservationSql, reservationStatements, type HotPathSql, type ReservationStatements } from '../hot-path-sql';
import { retryOnDeadlock, type SqliteQueue } from './sqlite-queue';
import type { UploadRecords } from './upload-records';

/** Outcome of trying to reserve a chunk's byte range. */
export type Reservation =
  | { kind: 'reserved'; id: string; /** A stale reservation (its writer may be stalled, not dead) was replaced. */ tookOver: boolean }
  | { kind: 'duplicate' }
  | { kind: 'twin' }
  | { kind: 'overlap'; conflicting: ByteRange }
  | { kind: 'not-writable'; status: UploadStatus | 'finalizing' | 'gone' };

/**
 * The chunk rows: a byte range is reserved by one writer under a lock on its
 * upload's row (so two overlapping reservations never both succeed, on one
 * instance or many), leased while the writer works, committed once its bytes
 * are durable, released when it fails.
 */
export class ChunkReservations {
  private hotPath: HotPathSql | null = null;
  private statements: ReservationStatements | null = null;

  constructor(
    private readonly chunks: Repository<ChunkedUploadChunk>,
    private readonly records: UploadRecords,
    private readonly dataSource: DataSource,
    private readonly queue: SqliteQueue,
  ) {}

  committedChunks(uploadId: string): Promise<ChunkedUploadChunk[]> {
    return this.queue.exclusive(() => this.chunks.find({ where: { uploadId, committed: true }, order: { start: 'ASC' } }));
  }

  /** Bytes of the committed chunks of each upload, in one query (committed chunks never overlap). */
  async committedBytes(uploadIds: string[]): Promise<Map<string, number>> {
    if (uploadIds.length === 0) return new Map();
    const rows = await this.queue.exclusive(() =>
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
  reserveChunk(uploadId: string, start: number, end: number, leaseMs: number, id: string = randomUUID()): Promise<Reservation> {
    return this.queue.transaction(async (manager) => {
      const now = Date.now();
      // On PostgreSQL this also lets the reservation's commit skip the WAL flush (harmless if lost in a crash: its chunk never counted).
      const upload = await this.records.lockUploadState(manager, uploadId);
      const state = writableState(upload, now);
      if (state) return { kind: 'not-writable', status: state };
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
  private async classifyConflict(
    manager: EntityManager,
    id: string,
    uploadId: string,
    start: number,
    end: number,
    leaseUntil: number,
    now: number,
  ): Promise<Reservation> {
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

  /** Quoted names and dialect bits for the hand-written hot-path SQL, from the entity metadata. */
  private get sql(): HotPathSql {
    this.hotPath ??= hotPathSql(this.dataSource, this.chunks);
    return this.hotPath;
  }

  /** The hand-written per-chunk statements (see `reservationStatements`). */
  private get perChunk(): ReservationStatements {
    this.statements ??= reservationStatements(this.sql);
    return this.statements;
  }

  /** Runs one per-chunk statement outside any transaction; resolves with the rows it changed. */
  private async affected(query: string, params: unknown[]): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(query, params, true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }

  /**
   * Whether a live, uncommitted reservation of exactly `[start, end]` holds
   * the range: one read by the (upload, start) index, without a lock or a
   * transaction (waiting twins ask this, see `TwinWaits`).
   */
  rangeHeld(uploadId: string, start: number, end: number, now: number): Promise<boolean> {
    return this.queue.exclusive(async () => {
      const row = await this.chunks.findOne({ where: { uploadId, start }, select: { id: true, end: true, committed: true, leaseUntil: true } });
      return row !== null && !row.committed && row.end === end && (row.leaseUntil ?? 0) > now;
    });
  }

  /** Makes a reservation count. False when it is gone (upload deleted, or its lease was taken over). */
  commitChunk(reservationId: string): Promise<boolean> {
    return this.queue.exclusive(async () => {
      return (await this.affected(this.perChunk.commit, [reservationId])) === 1;
    });
  }

  /**
   * Makes a reservation count with the range it actually got: `[start, end]`
   * shrunk to `end` (a tus PATCH that stored fewer bytes than it reserved).
   * False when the reservation is gone.
   */
  commitChunkUpTo(reservationId: string, start: number, end: number): Promise<boolean> {
    return this.queue.exclusive(async () => {
      const result = await retryOnDeadlock(() =>
        this.chunks.update({ id: reservationId, committed: false }, { end, size: end - start + 1, committed: true, leaseUntil: null }),
      );
      return result.affected === 1;
    });
  }

  releaseChunk(reservationId: string): Promise<void> {
    return this.queue.exclusive(async () => {
      await this.affected(this.perChunk.release, [reservationId]);
    });
  }

  /** Extends a reservation's lease; false when the reservation is gone (taken over, or the upload deleted). */
  renewLease(reservationId: string, until: number): Promise<boolean> {
    return this.queue.exclusive(async () => {
      return (await this.affected(this.perChunk.renew, [until, reservationId])) === 1;
    });
  }

  /** Chunk rows of uploads that are no longer in progress (left behind by an interrupted sweep). */
  deleteChunks(uploadId: string): Promise<void> {
    return this.queue.exclusive(async () => {
      await this.chunks.delete({ uploadId });
    });
  }
}

/** Why an upload takes no chunks now, or null when it does. */
function writableState(upload: AbstractChunkUpload | null, now: number): UploadStatus | 'finalizing' | 'gone' | null {
  if (!upload) return 'gone';
  const status = upload.effectiveStatus(now);
  if (status !== UploadStatus.InProgress) return status;
  if ((upload.finalizingUntil ?? 0) > now) return 'finalizing';
  return null;
}
