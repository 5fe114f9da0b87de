import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { errorText } from '../domain/error-text';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { UploadStatus } from '../entities/upload-status';
import { ChunkStorage } from '../storage/chunk-storage';
import { FragoEventPublisher } from '../events/frago-event-publisher';
import { FragoEvents } from '../events/frago-events';
import { UploadExpiredEvent } from '../events/upload.events';
import { UploadStore } from './upload-store';
import { IncrementalHasher } from './incremental-hash';
import { UploadRemoval } from './upload-removal';

const SWEEP_BATCH = 100;

/**
 * Expires unfinished uploads past `expiration` and removes their chunk data
 * (uploads not completed within `expiration` end as expired). Runs every `cleanupInterval` ms (0 = never); hosts with their
 * own scheduler call `sweepExpired()` directly. Safe on several instances:
 * each upload is expired by exactly one of them.
 * @publicApi
 */
@Injectable()
export class ExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('nestjs-frago');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly store: UploadStore,
    private readonly storage: ChunkStorage,
    private readonly events: FragoEventPublisher,
    private readonly hasher: IncrementalHasher,
    private readonly removal: UploadRemoval,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.cleanupInterval === 0) return;
    this.timer = setInterval(() => {
      this.sweepExpired().catch((error: unknown) => this.logger.error(`Expiry sweep failed: ${errorText(error)}`));
    }, this.options.cleanupInterval);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Expires every due upload now; resolves with how many this call expired. */
  sweepExpired(): Promise<number> {
    this.running ??= this.sweep().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweep(): Promise<number> {
    const expired = await this.expireDue();
    await this.removal.sweep().catch((error: unknown) => this.logger.warn(`Sweep of removed uploads failed: ${errorText(error)}`));
    await this.storage
      .sweep(new Date(Date.now() - this.options.expiration))
      .catch((error: unknown) => this.logger.warn(`Storage sweep failed: ${errorText(error)}`));
    return expired;
  }

  private async expireDue(): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.store.expiredCandidates(SWEEP_BATCH);
      let progressed = false;
      for (const upload of due) {
        if (!(await this.store.markExpired(upload.id))) continue;
        progressed = true;
        await this.storage.remove(upload.id);
        this.hasher.forget(upload.id);
        await this.store.deleteChunks(upload.id);
        await this.removal.removed(upload.id);
        upload.status = UploadStatus.Expired;
        expired++;
        this.events.emit(FragoEvents.UploadExpired, new UploadExpiredEvent(upload));
      }
      if (due.length < SWEEP_BATCH || !progressed) return expired;
    }
  }
}
