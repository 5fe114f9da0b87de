/**
 * Records, for the whole test process, what shows an error nothing handled
 * in an in-process app: Nest logger error-level entries with a stack (or an
 * `Unexpected error`), unhandled rejections and uncaught exceptions. Test
 * apps read the entries recorded while they ran (see `createTestApp`).
 */
import { ConsoleLogger } from '@nestjs/common';

/** One recorded error. */
export interface RecordedError {
  /** Sequence number in this process. */
  seq: number;
  /** Where it came from. */
  source: 'logger' | 'unhandledRejection' | 'uncaughtException';
  /** The message and, when there is one, the stack. */
  text: string;
  /** Whether it shows an unhandled error (a stack, `Unexpected error`, or a process-level event). */
  unhandled: boolean;
}

const recorded: RecordedError[] = [];
let nextSeq = 0;

function record(source: RecordedError['source'], text: string, unhandled: boolean): void {
  recorded.push({ seq: nextSeq++, source, text, unhandled });
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

const STACK = /\n\s+at \S/;

let installed = false;

/** Installs the process-level listeners once (they only record: node:test still reports the event). */
function installProcessListeners(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtExceptionMonitor', (error, origin) => record('uncaughtException', `${origin}: ${describe(error)}`, true));
  process.on('unhandledRejection', (reason) => record('unhandledRejection', describe(reason), true));
}

/**
 * The Nest logger of test apps: prints error-level entries as the default
 * logger does and records them.
 */
export class RecordingLogger extends ConsoleLogger {
  constructor() {
    super({ logLevels: ['error'] });
    installProcessListeners();
  }

  override error(message: unknown, ...rest: unknown[]): void {
    const parts = [message, ...rest].map(describe);
    const text = parts.join('\n');
    const unhandled = message instanceof Error || rest.some((part) => part instanceof Error) || STACK.test(text) || /Unexpected error/.test(text);
    record('logger', text, unhandled);
    super.error(message, ...(rest as []));
  }
}

/** A position in the record; entries after it belong to whoever took it. */
export function mark(): number {
  installProcessListeners();
  return nextSeq;
}

/** Every entry recorded since `from`. */
export function recordedSince(from: number): RecordedError[] {
  return recorded.filter((entry) => entry.seq >= from);
}
