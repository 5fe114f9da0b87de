import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { FragoEventPayloads } from './upload.events';

/**
 * Emits typed events after the database change they report is committed.
 * A throwing listener is logged, never turned into a failed request: the
 * client's data is already stored.
 */
@Injectable()
export class FragoEventPublisher {
  private readonly logger = new Logger('nestjs-frago');

  constructor(private readonly emitter: EventEmitter2) {}

  emit<K extends keyof FragoEventPayloads>(name: K, payload: FragoEventPayloads[K]): void {
    try {
      this.emitter.emit(name, payload);
    } catch (error) {
      this.logger.error(`A listener of "${name}" threw: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
