import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { UploadStore } from './upload-store';
import { TwinWaits } from './twin-waits';

/** A reservation this process failed to drop, and the range it still holds. */
interface PendingRelease {
  reservationId: string;
  uploadId: string;
  start: number;
  end: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Reservations whose chunk failed but whose release failed too (the database
 * was unreachable), and reservations whose outcome is unknown (the connection
 * broke before the database said whether it committed). Each would hold its
 * range until its lease runs out, so the client's retry would wait that long
 * as a twin. They are dropped:
 *
 * - in the background, with a growing delay, until the database answers;
 * - at once when a retry of the same range finds one of them in its way
 *   ({@link releaseFor}): the retry's own reservation query just reached the
 *   database, so the release can run now rather than at the next backoff.
 */
@Injectable()
export class PendingReleases implements OnModuleDestroy {
  private readonly pending = new Map<string, PendingRelease>();

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly store: UploadStore,
    private readonly twins: TwinWaits,
  ) {}

  /**
   * Drops the reservation now; if the database refuses, keeps trying in the background.
   * Dropping one that was never stored is harmless (the delete matches nothing).
   */
  async release(reservationId: string, uploadId: string, start: number, end: number): Promise<void> {
    try {
      await this.store.releaseChunk(reservationId);
    } catch (e) {
      const entry: PendingRelease = { reservationId, uploadId, start, end, timer: null };
      this.pending.set(reservationId, entry);
      this.schedule(entry, 0);
    }
  }

  /**
   * Drops this process's pending releases of exactly `[start, end]` of the upload.
   * Resolves true when one was dropped (the caller reserves again at once).
   */
  async releaseFor(uploadId: string, start: number, end: number): Promise<boolean> {
    let released = false;
    for (const entry of [...this.pending.values()]) {
      if (entry.uploadId !== uploadId || entry.start !== start || entry.end !== end) continue;
      if (await this.attempt(entry)) released = true;
    }
    return released;
  }

  /** Stops the background retries (the module is shutting down; the leases expire the rest). */
  onModuleDestroy(): void {
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer);
    this.pending.clear();
  }

  private schedule(entry: PendingRelease, tries: number): void {
    const delay = Math.min(2000, 100 * 2 ** tries);
    if (tries * 2000 > this.options.chunkLeaseTimeout) {
      this.pending.delete(entry.reservationId); // the lease has run out by now
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = null;
      void this.attempt(entry).then((done) => {
        if (!done && this.pending.get(entry.reservationId) === entry && entry.timer === null) this.schedule(entry, tries + 1);
      });
    }, delay);
    entry.timer.unref();
  }

  private async attempt(entry: PendingRelease): Promise<boolean> {
    try {
      await this.store.releaseChunk(entry.reservationId);
    } catch (e) {
      return false;
    }
    if (entry.timer) clearTimeout(entry.timer);
    // The row is gone whichever attempt (background or a retry's) got there first; the twins are told once.
    if (this.pending.delete(entry.reservationId)) this.twins.finished(entry.uploadId, entry.start, entry.end);
    return true;
  }
}
