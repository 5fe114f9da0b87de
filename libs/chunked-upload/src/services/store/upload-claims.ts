import type { Repository } from 'typeorm';
import { FragoNameClaim } from '../../entities/frago-name-claim.entity';
import { nameKey } from '../../migrations/add-frago-name-claims';
import type { SqliteQueue } from './sqlite-queue';
import type { UploadRecords } from './upload-records';

/**
 * The claims that let exactly one party act, on any number of instances: a
 * published name (one primary-key insert) and the finalize lease of an
 * upload (conditional UPDATEs of its row).
 */
export class UploadClaims {
  constructor(
    private readonly names: Repository<FragoNameClaim>,
    private readonly records: UploadRecords,
    private readonly queue: SqliteQueue,
  ) {}

  /**
   * Claims the published name `name` for `uploadId`: true when it is now this
   * upload's (claimed now, or by an earlier attempt of the same upload), false
   * when another upload holds it. One primary-key insert, so exactly one of
   * any number of concurrent claimers wins, on every instance.
   */
  claimName(uploadId: string, name: string): Promise<boolean> {
    const key = nameKey(name);
    return this.queue.exclusive(async () => {
      await this.names.createQueryBuilder().insert().values({ key, name, uploadId, claimedAt: Date.now() }).orIgnore().execute();
      const claim = await this.names.findOne({ where: { key }, select: { key: true, uploadId: true } });
      return claim?.uploadId === uploadId;
    });
  }

  /** Conditional UPDATE: true for exactly one of any number of concurrent callers (only one finalize may assemble an upload). */
  claimFinalize(uploadId: string, until: number): Promise<boolean> {
    const now = Date.now();
    return this.records.conditionalUpdate(uploadId, { finalizingUntil: until }, (q) =>
      q.andWhere('expires_at > :now', { now }).andWhere('(finalizing_until IS NULL OR finalizing_until < :now)', { now }),
    );
  }

  /**
   * Extends a finalize claim from `held` (the `until` it was claimed or last
   * renewed with) to `until`. False when the claim is no longer this
   * finalizer's: it ran out and another took it, or it was released.
   */
  renewFinalize(uploadId: string, held: number, until: number): Promise<boolean> {
    return this.records.conditionalUpdate(uploadId, { finalizingUntil: until }, (q) => q.andWhere('finalizing_until = :held', { held }));
  }

  releaseFinalize(uploadId: string): Promise<boolean> {
    return this.records.conditionalUpdate(uploadId, { finalizingUntil: null }, (q) => q);
  }
}
