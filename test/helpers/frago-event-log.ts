import { existsSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  FragoEvents,
  type ChecksumFailedEvent,
  type ChunkReceivedEvent,
  type UploadCompletedEvent,
  type UploadDeletedEvent,
  type UploadExpiredEvent,
  type UploadStartedEvent,
} from 'nestjs-frago';

/**
 * A host provider recording every frago event it receives, as a host app
 * would listen: pass it in `createTestApp({ providers: [FragoEventLog] })` and
 * read it with `t.app.get(FragoEventLog)`. Tests check that each event fires
 * exactly once per occurrence, and can wait for one without sleeping.
 */
@Injectable()
export class FragoEventLog {
  readonly started: UploadStartedEvent[] = [];
  readonly chunks: ChunkReceivedEvent[] = [];
  readonly completed: UploadCompletedEvent[] = [];
  readonly checksumFailed: ChecksumFailedEvent[] = [];
  readonly expired: UploadExpiredEvent[] = [];
  readonly deleted: UploadDeletedEvent[] = [];
  /** Whether the assembled file was already at its location when `upload.completed` fired. */
  readonly fileExistedOnCompletion = new WeakMap<UploadCompletedEvent, boolean>();
  private readonly waiters = new Set<() => void>();

  @OnEvent(FragoEvents.UploadStarted)
  onStarted(event: UploadStartedEvent): void {
    this.record(this.started, event);
  }

  @OnEvent(FragoEvents.ChunkReceived)
  onChunk(event: ChunkReceivedEvent): void {
    this.record(this.chunks, event);
  }

  @OnEvent(FragoEvents.UploadCompleted)
  onCompleted(event: UploadCompletedEvent): void {
    this.fileExistedOnCompletion.set(event, existsSync(event.location));
    this.record(this.completed, event);
  }

  @OnEvent(FragoEvents.ChecksumFailed)
  onChecksumFailed(event: ChecksumFailedEvent): void {
    this.record(this.checksumFailed, event);
  }

  @OnEvent(FragoEvents.UploadExpired)
  onExpired(event: UploadExpiredEvent): void {
    this.record(this.expired, event);
  }

  @OnEvent(FragoEvents.UploadDeleted)
  onDeleted(event: UploadDeletedEvent): void {
    this.record(this.deleted, event);
  }

  /** The events of `list` that concern upload `id`. */
  of<E extends { upload: { id: string } }>(list: readonly E[], id: string): E[] {
    return list.filter((event) => event.upload.id === id);
  }

  /** How many events of `list` concern upload `id`. */
  count(list: readonly { upload: { id: string } }[], id: string): number {
    return this.of(list, id).length;
  }

  /** Resolves once `check()` holds; it is checked now and after every recorded event. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (!check()) return;
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private record<E>(list: E[], event: E): void {
    list.push(event);
    for (const waiter of [...this.waiters]) waiter();
  }
}
