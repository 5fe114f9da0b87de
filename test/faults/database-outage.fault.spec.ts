import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { DataSourceOptions } from 'typeorm';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { startOk, startUpload, getStatus } from '../helpers/upload-client';

/** A TCP proxy in front of the database server that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

for (const kind of databaseKinds().filter((k) => k !== 'sqlite')) {
  describe(`a ${kind} outage (the database connection cut at a TCP proxy)`, () => {
    let db: TestDatabase;
    let t: TestApp;
    let proxy: CuttableProxy;

    before(async () => {
      db = await createTestDatabase(kind);
      const url = new URL((db.options as { url: string }).url);
      proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
      await proxy.open();
      url.port = String(proxy.port);
      t = await createTestApp({ db: { ...db, options: { ...db.options, url: url.toString() } as DataSourceOptions } });
    });
    after(async () => {
      await proxy?.cut();
      await t?.close().catch(() => undefined);
      await db?.drop();
    });

    it('every request answers 503 DATABASE_UNAVAILABLE with Retry-After while the database is unreachable (never 500), and works again once it is back', async () => {
      const id = await startOk(t.uploadUrl, 'before.bin', 10);
      await proxy.cut();
      for (const answer of [await getStatus(t.uploadUrl, id), await startUpload(t.uploadUrl, { filename: 'during.bin', total_size: 10 })]) {
        assert.equal(answer.status, 503, JSON.stringify(answer.body));
        assert.equal(answer.body.code, 'DATABASE_UNAVAILABLE', JSON.stringify(answer.body));
        assert.equal(answer.body.status, false);
        assert.ok(Number(answer.headers.get('retry-after')) > 0, 'Retry-After says when to retry');
      }
      await proxy.open();
      let status = await getStatus(t.uploadUrl, id);
      for (let attempt = 0; status.status === 503 && attempt < 50; attempt++) status = await getStatus(t.uploadUrl, id);
      assert.equal(status.status, 200, JSON.stringify(status.body));
    });
  });
}
