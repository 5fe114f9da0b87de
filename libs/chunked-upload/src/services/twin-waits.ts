import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { ChunkBusyError, TwinWaitLimitError, TwinWaitTimeoutError } from '../errors/frago.errors';
import { UploadStore } from './upload-store';

/** The twins of one range waiting in this process, and the one poll they share. */
interface RangeWatch {
  uploadId: string;
  start: number;
  end: number;
  waiters: Set<() => void>;
  timer: NodeJS.Timeout | null;
}

/**
 * Identical chunk requests ("twins": same upload, same range) waiting for the
 * request that writes their range. A twin is never refused while it waits
 * (frago answers it the duplicate body once the writer committed, or lets it
 * write when the writer failed), but waiting must stay cheap and bounded:
 *
 * - A writer in this process wakes its twins the moment its reservation ends
 *   ({@link finished}); nothing is asked of the database meanwhile.
 * - For a writer on another instance, or one that died, the twins of a range
 *   share one non-locking read every `twinPollInterval` ms, however many they are.
 * - At most `maxWaitingTwins` wait in this process, each at most
 *   `twinWaitTimeout` ms; past either bound the twin answers 503 with
 *   Retry-After (a client retries it), so a flood of retries can neither hold
 *   every socket nor every database connection.
 *
 * Woken twins run the locking reservation again: one transaction each per
 * wake, not per poll.
 */
@Injectable()
export class TwinWaits implements OnModuleDestroy {
  private waiting = 0;
  private readonly watches = new Map<string, RangeWatch>();

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly store: UploadStore,
  ) {}

  /** Twins waiting in this process right now. */
  get count(): number {
    return this.waiting;
  }

  /**
   * Takes a waiting slot for one twin (held across its waits until the
   * returned function is called); throws {@link TwinWaitLimitError} when
   * `maxWaitingTwins` twins wait already.
   */
  enter(): () => void {
    if (this.waiting >= this.options.maxWaitingTwins) throw new TwinWaitLimitError();
    this.waiting++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.waiting--;
    };
  }

  /**
   * Resolves once `[start, end]` of `uploadId` may be free (its writer in this
   * process finished, or the shared poll saw no live reservation); rejects
   * with {@link TwinWaitTimeoutError} at `deadline` (epoch ms) and with the
   * abort reason when the client leaves.
   */
  wait(uploadId: string, start: number, end: number, signal: AbortSignal, deadline: number): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (Date.now() >= deadline) return Promise.reject(new TwinWaitTimeoutError());
    const watch = this.watch(uploadId, start, end);
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        watch.waiters.delete(wake);
        if (watch.waiters.size === 0) this.unwatch(watch);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(abortReason(signal));
      };
      const timer = setTimeout(() => {
        done();
        reject(new TwinWaitTimeoutError());
      }, deadline - Date.now());
      signal.addEventListener('abort', onAbort, { once: true });
      watch.waiters.add(wake);
    });
  }

  /** A reservation of `[start, end]` made in this process ended (committed or released): its twins try again now. */
  finished(uploadId: string, start: number, end: number): void {
    const watch = this.watches.get(key(uploadId, start, end));
    if (watch) this.wakeAll(watch);
  }

  onModuleDestroy(): void {
    for (const watch of this.watches.values()) this.wakeAll(watch);
  }

  private watch(uploadId: string, start: number, end: number): RangeWatch {
    const id = key(uploadId, start, end);
    let watch = this.watches.get(id);
    if (!watch) {
      watch = { uploadId, start, end, waiters: new Set(), timer: null };
      this.watches.set(id, watch);
      this.schedulePoll(watch);
    }
    return watch;
  }

  private unwatch(watch: RangeWatch): void {
    if (watch.timer) clearTimeout(watch.timer);
    watch.timer = null;
    const id = key(watch.uploadId, watch.start, watch.end);
    if (this.watches.get(id) === watch) this.watches.delete(id);
  }

  private schedulePoll(watch: RangeWatch): void {
    watch.timer = setTimeout(() => {
      watch.timer = null;
      this.store.rangeHeld(watch.uploadId, watch.start, watch.end, Date.now()).then(
        (held) => {
          if (!held) this.wakeAll(watch);
          else if (watch.waiters.size > 0 && this.watches.get(key(watch.uploadId, watch.start, watch.end)) === watch) this.schedulePoll(watch);
        },
        // The database failed: let the twins find out (their reservation answers 503 DATABASE_UNAVAILABLE).
        () => this.wakeAll(watch),
      );
    }, this.options.twinPollInterval);
    watch.timer.unref();
  }

  private wakeAll(watch: RangeWatch): void {
    this.unwatch(watch);
    for (const wake of [...watch.waiters]) wake();
  }
}

function key(uploadId: string, start: number, end: number): string {
  return `${uploadId}:${start}:${end}`;
}

/** A twin whose client left or half-closed: the signal's reason (its client cannot be answered, or gets the 400 it earned). */
function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new ChunkBusyError();
}
