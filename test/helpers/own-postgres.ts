/**
 * A PostgreSQL server of the test's own: a throwaway cluster (initdb) in a
 * temp folder, on its own port, that a test may stop and start again to take
 * the database down for real. The shared servers (5432, 3306) are never
 * touched. Needs the PostgreSQL server binaries (initdb, pg_ctl); as root, the
 * cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedPort } from './app-process';

/** Where initdb and pg_ctl are, or why they are not usable here. */
export function postgresBinaries(): { bin: string } | { missing: string } {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) return { missing: `no PostgreSQL server binaries (${root}/<version>/bin/initdb)` };
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0)
    return { missing: 'running as root without a postgres user to run the cluster as' };
  return { bin: join(root, versions[0], 'bin') };
}

/** A running throwaway cluster. */
export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:PORT/<database> */
  url(database: string): string;
  port: number;
  /** Stops the server (fast shutdown: every connection is closed); resolves once it is down. */
  stop(): void;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): void;
  /** Stops it if running and removes its folder. */
  destroy(): void;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const found = postgresBinaries();
  if ('missing' in found) throw new Error(found.missing);
  const port = await unusedPort();
  const dir = mkdtempSync(join(tmpdir(), 'frago-own-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString().trim()) : undefined;
  const gid = asRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) : undefined;
  if (uid !== undefined && gid !== undefined) chownSync(dir, uid, gid);
  const run = (tool: string, args: string[]): void => {
    const command = asRoot ? 'runuser' : join(found.bin, tool);
    const commandArgs = asRoot ? ['-u', 'postgres', '--', join(found.bin, tool), ...args] : args;
    const result = spawnSync(command, commandArgs, { encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = (): void => {
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  };
  let running = false;
  const stop = (): void => {
    if (!running) return;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  start();
  running = true;
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop,
    start: () => {
      start();
      running = true;
    },
    destroy: () => {
      try {
        stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
