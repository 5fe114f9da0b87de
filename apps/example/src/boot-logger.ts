import { ConsoleLogger } from '@nestjs/common';

/**
 * The example app's logger: errors and warnings, but a failed boot is told
 * once, by main.ts, in one line. Nest's own report of it (context
 * `ExceptionHandler`) is left out, and TypeOrmModule's "Unable to connect…
 * Retrying (n)" lines come without their stack trace.
 */
export class BootLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    if (context === 'ExceptionHandler') return;
    if (context === 'TypeOrmModule') {
      super.warn(message, 'TypeOrmModule');
      return;
    }
    super.error(message, ...rest);
  }
}
