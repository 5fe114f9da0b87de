/**
 * The errors that say the chunk or request was refused for now, not for its content:
 * storage or database unavailable, too many identical requests waiting. The client retries.
 */
import { FragoError } from './frago-error';

/** The storage has no space left (507); the chunk was not stored, retry later. */
export class StorageFullError extends FragoError {
  constructor() {
    super('STORAGE_FULL', 'Insufficient storage: the chunk was not stored; retry later');
  }
}

/** The storage failed; the chunk was not stored, retry (503). */
export class StorageUnavailableError extends FragoError {
  constructor() {
    super('STORAGE_UNAVAILABLE', 'Storage failed: the chunk was not stored; retry');
  }
}

/** The database cannot be reached or is overloaded right now; retry (503). */
export class DatabaseUnavailableError extends FragoError {
  constructor() {
    super('DATABASE_UNAVAILABLE', 'The database is unavailable right now; retry');
  }
}

/** Too many identical chunk requests already wait in this process for the one writing their range (`maxWaitingTwins`); retry (503). */
export class TwinWaitLimitError extends FragoError {
  constructor() {
    super('TWIN_WAIT_LIMIT', 'Too many identical requests for this chunk are waiting; retry');
  }
}

/** An identical chunk request waited `twinWaitTimeout` for the one writing its range; retry (503). */
export class TwinWaitTimeoutError extends FragoError {
  constructor() {
    super('TWIN_WAIT_TIMEOUT', 'The same chunk is still being uploaded by another request; retry');
  }
}
