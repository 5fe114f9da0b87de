/**
 * The benchmark's baseline: a minimal node:http server (no framework, no database)
 * speaking frago's protocol. Each chunk body streams straight into one preallocated
 * file per upload at its offset; finalize hashes that file once. State is in memory.
 *
 *   node bench/dist/baseline-server.js --port N --dir D [--fsync]
 *
 * With --fsync each chunk is flushed (fdatasync) before it is acknowledged: the
 * ceiling for a server that makes every acknowledged chunk durable.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { BaselineServer } from './baseline-app';

function parseCli(argv: string[]): { port: number; dir: string; host: string; fsync: boolean } {
  let port = 0;
  let fsync = false;
  let dir = '';
  let host = '127.0.0.1';
  for (let i = 0; i < argv.length; i++) {
    const value = argv.at(i + 1);
    if (argv[i] === '--port' && value !== undefined) port = Number(argv[++i]);
    else if (argv[i] === '--dir' && value !== undefined) dir = argv[++i];
    else if (argv[i] === '--host' && value !== undefined) host = argv[++i];
    else if (argv[i] === '--fsync') fsync = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: --port N --dir D [--host H] [--fsync])`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  if (dir === '') throw new Error('--dir is required');
  return { port, dir, host, fsync };
}

function main(): void {
  const { port, dir, host, fsync } = parseCli(process.argv.slice(2));
  mkdirSync(dir, { recursive: true });
  const app = new BaselineServer(dir, fsync);
  const server = createServer((req, res) => {
    void app.handle(req, res);
  });
  server.listen(port, host, () => {
    const address = server.address();
    const actual = address !== null && typeof address === 'object' ? address.port : port;
    console.log(`baseline-server listening on http://${host}:${actual}/api (data ${dir}${fsync ? ', fdatasync per chunk' : ''})`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
