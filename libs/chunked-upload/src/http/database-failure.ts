/** Network errors of a driver that cannot reach its server. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** MySQL/MariaDB driver codes of a lost, refused, overloaded or locked server. */
const MYSQL = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_CANT_CREATE_THREAD',
  'ER_SERVER_GONE_ERROR',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
]);

/** PostgreSQL SQLSTATEs of an unavailable server: connection exceptions (08…), shutdown, overload, conflicts, timeouts. */
const POSTGRES = /^(08...|57P0[1-5]|53000|53300|40001|40P01|55P03|57014)$/;

/** SQLite result codes of a busy or failing database file. */
const SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|PROTOCOL|NOMEM)/;

const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection lost|Client has encountered a connection error|Pool is closed|Cannot enqueue|database is locked|server closed the connection/i;

/**
 * Whether an error is the database being unreachable or overloaded (a
 * retryable 503) or its disk being full (507), as opposed to a bug (500).
 * Reads the driver's code on the error or on TypeORM's `driverError`.
 */
export function databaseFailure(error: unknown): 'unavailable' | 'full' | null {
  const candidates = [error, (error as { driverError?: unknown } | null)?.driverError, (error as { cause?: unknown } | null)?.cause];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const code = (candidate as { code?: unknown }).code;
    if (code === 'SQLITE_FULL' || code === '53100' || code === 'ER_RECORD_FILE_FULL' || code === 'ENOSPC') return 'full';
    if (typeof code === 'string' && (NETWORK.has(code) || MYSQL.has(code) || POSTGRES.test(code) || SQLITE.test(code))) return 'unavailable';
    const message = (candidate as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.test(message)) return 'unavailable';
  }
  return null;
}
