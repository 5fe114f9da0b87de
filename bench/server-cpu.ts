/**
 * CPU time used by the local database server's processes (PostgreSQL's backends, MariaDB or
 * MySQL), read from /proc: what the app's ledger costs the machine beyond the app's own
 * process. Linux only; null elsewhere or when no such process is visible.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { DbKind } from './args';

const SERVER_COMMANDS: Record<Exclude<DbKind, 'sqlite'>, string[]> = {
  postgres: ['postgres'],
  mysql: ['mariadbd', 'mysqld'],
};

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Seconds of CPU (user + system) the server's processes have used so far, or null. */
export function serverCpuSeconds(kind: DbKind): number | null {
  if (kind === 'sqlite') return null;
  const commands = SERVER_COMMANDS[kind];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  let seen = false;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open || !commands.includes(stat.slice(open + 1, close))) continue;
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the command.
    ticks += Number(fields[11]) + Number(fields[12]);
    seen = true;
  }
  return seen ? ticks / TICKS_PER_SECOND : null;
}
