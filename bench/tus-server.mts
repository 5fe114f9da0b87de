/**
 * The tus competitor of the benchmark: @tus/server with @tus/file-store, as its README
 * sets it up (no fsync, no checksum extension enabled by default), on a bare node:http
 * server. An ES module because @tus/server 2 is one.
 *
 *   node bench/dist/tus-server.mjs --port N --dir D
 */
import { createServer } from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

function parseCli(argv: string[]): { port: number; dir: string; host: string } {
  let port = 0;
  let dir = '';
  let host = '127.0.0.1';
  for (let i = 0; i < argv.length; i++) {
    const hasValue = i + 1 < argv.length;
    if (argv[i] === '--port' && hasValue) port = Number(argv[++i]);
    else if (argv[i] === '--dir' && hasValue) dir = argv[++i];
    else if (argv[i] === '--host' && hasValue) host = argv[++i];
    else throw new Error(`unknown argument ${argv[i]} (usage: --port N --dir D [--host H])`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  if (dir === '') throw new Error('--dir is required');
  return { port, dir, host };
}

const { port, dir, host } = parseCli(process.argv.slice(2));
const tus = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
const server = createServer((req, res) => {
  void tus.handle(req, res);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = address !== null && typeof address === 'object' ? address.port : port;
  console.log(`tus-server listening on http://${host}:${actual}/files/ (data ${dir})`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
