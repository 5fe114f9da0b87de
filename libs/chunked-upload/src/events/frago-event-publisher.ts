import { Injectable, Logger, Optional } from '@nestjs/common';
import { errorText } from '../domain/error-text';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { FragoEventPayloads } from './upload.events';
import { FragoSetupError } from '../errors/frago-setup.error';

/**
 * Emits typed events after the database change they report is committed.
 * A throwing listener is logged, never turned into a failed request: the
 * client's data is already stored.
 */
@Injectable()
export class FragoEventPublisher {
  private readonly logger = new Logger('nestjs-frago');

  private readonly emitter: EventEmitter2;

  constructor(@Optional() emitter?: EventEmitter2) {
    if (!emitter) {
      throw new FragoSetupError(
        'no EventEmitter2 to publish upload events with: import EventEmitterModule.forRoot() from @nestjs/event-emitter in your root module (beside TypeOrmModule.forRoot() and ChunkedUploadModule)',
      );
    }
    this.emitter = emitter;
  }

  emit<K extends keyof FragoEventPayloads>(name: K, payload: FragoEventPayloads[K]): void {
    try {
      // emitAsync runs the listeners now, like emit, but also collects their
      // promises: an async listener that rejects (e.g. `@OnEvent(…, { suppressErrors: false })`)
      // is logged here instead of becoming an unhandled rejection that ends the process.
      const settled: unknown = this.emitter.emitAsync(name, payload);
      if (settled instanceof Promise) settled.catch((error: unknown) => this.logFailure(name, error));
    } catch (error) {
      this.logFailure(name, error);
    }
  }

  private logFailure(name: string, error: unknown): void {
    this.logger.error(`A listener of "${name}" threw: ${errorText(error)}`);
  }
}
