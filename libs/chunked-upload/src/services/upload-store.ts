import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type FindOptionsWhere, type Repository } from 'typeorm';
import { FRAGO_CHUNK_REPOSITORY, FRAGO_NAME_REPOSITORY, FRAGO_UPLOAD_REPOSITORY } from '../chunked-upload.constants';
import type { FragoNameClaim } from '../entities/frago-name-claim.entity';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import type { ChunkedUploadChunk } from '../entities/chunked-upload-chunk.entity';
import type { UploadStatus } from '../entities/upload-status';
import { ChunkReservations, type Reservation } from './store/chunk-reservations';
import { warnOnLooseKeyCollations } from './store/key-collation-check';
import { SqliteQueue } from './store/sqlite-queue';
import { UploadClaims } from './store/upload-claims';
import { UploadRecords, type ActiveUsage } from './store/upload-records';

export type { ActiveUsage, Reservation };

/**
 * All database access of the module, one injectable over its four jobs:
 * the upload rows (`store/upload-records.ts`), the chunk reservations
 * (`store/chunk-reservations.ts`), the name and finalize claims
 * (`store/upload-claims.ts`), and the in-process serialisation SQLite needs
 * (`store/sqlite-queue.ts`). The database arbitrates every race between
 * instances sharing it: a row lock on the upload serialises range
 * reservations, conditional UPDATEs claim finalization and expiry.
 */
@Injectable()
export class UploadStore implements OnModuleInit {
  private readonly queue: SqliteQueue;
  private readonly records: UploadRecords;
  private readonly reservations: ChunkReservations;
  private readonly claims: UploadClaims;

  constructor(
    @Inject(FRAGO_UPLOAD_REPOSITORY) readonly uploads: Repository<AbstractChunkUpload>,
    @Inject(FRAGO_CHUNK_REPOSITORY) private readonly chunks: Repository<ChunkedUploadChunk>,
    @Inject(FRAGO_NAME_REPOSITORY) names: Repository<FragoNameClaim>,
    private readonly dataSource: DataSource,
  ) {
    this.queue = new SqliteQueue(dataSource);
    this.records = new UploadRecords(uploads, chunks, dataSource, this.queue);
    this.reservations = new ChunkReservations(chunks, this.records, dataSource, this.queue);
    this.claims = new UploadClaims(names, this.records, this.queue);
  }

  /** Warns about key columns that compare loosely (MySQL/MariaDB), see `warnOnLooseKeyCollations`. */
  onModuleInit(): Promise<void> {
    return warnOnLooseKeyCollations(this.dataSource, this.uploads, this.chunks);
  }

  /** Runs other module queries (e.g. the tus table) under the same SQLite serialisation as the ledger's. */
  exclusively<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.exclusive(work);
  }

  // Upload rows (store/upload-records.ts).
  newUpload(): AbstractChunkUpload {
    return this.records.newUpload();
  }
  insertUpload(upload: AbstractChunkUpload): Promise<void> {
    return this.records.insertUpload(upload);
  }
  findUpload(id: string, owner: FindOptionsWhere<AbstractChunkUpload>): Promise<AbstractChunkUpload | null> {
    return this.records.findUpload(id, owner);
  }
  listUploads(owner: FindOptionsWhere<AbstractChunkUpload>, status: UploadStatus | undefined, limit: number, offset: number): Promise<AbstractChunkUpload[]> {
    return this.records.listUploads(owner, status, limit, offset);
  }
  activeUsage(owner: FindOptionsWhere<AbstractChunkUpload>): Promise<ActiveUsage> {
    return this.records.activeUsage(owner);
  }
  insertUploadAdmitted(upload: AbstractChunkUpload, owner: FindOptionsWhere<AbstractChunkUpload>, admit: (usage: ActiveUsage) => void): Promise<void> {
    return this.records.insertUploadAdmitted(upload, owner, admit);
  }
  setTotalSize(uploadId: string, totalSize: number): Promise<boolean> {
    return this.records.setTotalSize(uploadId, totalSize);
  }
  completeUpload(uploadId: string, fields: { checksum: string | null; checksumAlgo: string | null; assembledName: string }): Promise<boolean> {
    return this.records.completeUpload(uploadId, fields);
  }
  markExpired(uploadId: string): Promise<boolean> {
    return this.records.markExpired(uploadId);
  }
  expiredCandidates(limit: number): Promise<AbstractChunkUpload[]> {
    return this.records.expiredCandidates(limit);
  }
  deleteUpload(uploadId: string): Promise<'deleted' | 'finalizing' | 'gone'> {
    return this.records.deleteUpload(uploadId);
  }

  // Chunk reservations (store/chunk-reservations.ts).
  committedChunks(uploadId: string): Promise<ChunkedUploadChunk[]> {
    return this.reservations.committedChunks(uploadId);
  }
  committedBytes(uploadIds: string[]): Promise<Map<string, number>> {
    return this.reservations.committedBytes(uploadIds);
  }
  reserveChunk(uploadId: string, start: number, end: number, leaseMs: number, id?: string): Promise<Reservation> {
    return this.reservations.reserveChunk(uploadId, start, end, leaseMs, id);
  }
  rangeHeld(uploadId: string, start: number, end: number, now: number): Promise<boolean> {
    return this.reservations.rangeHeld(uploadId, start, end, now);
  }
  commitChunk(reservationId: string): Promise<boolean> {
    return this.reservations.commitChunk(reservationId);
  }
  commitChunkUpTo(reservationId: string, start: number, end: number): Promise<boolean> {
    return this.reservations.commitChunkUpTo(reservationId, start, end);
  }
  releaseChunk(reservationId: string): Promise<void> {
    return this.reservations.releaseChunk(reservationId);
  }
  renewLease(reservationId: string, until: number): Promise<boolean> {
    return this.reservations.renewLease(reservationId, until);
  }
  deleteChunks(uploadId: string): Promise<void> {
    return this.reservations.deleteChunks(uploadId);
  }

  // Claims (store/upload-claims.ts).
  claimName(uploadId: string, name: string): Promise<boolean> {
    return this.claims.claimName(uploadId, name);
  }
  claimFinalize(uploadId: string, until: number): Promise<boolean> {
    return this.claims.claimFinalize(uploadId, until);
  }
  renewFinalize(uploadId: string, held: number, until: number): Promise<boolean> {
    return this.claims.renewFinalize(uploadId, held, until);
  }
  releaseFinalize(uploadId: string): Promise<boolean> {
    return this.claims.releaseFinalize(uploadId);
  }
}
