import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startExampleApp, type ExampleApp } from '../client/support/example-app';

describe('the example app serves liveness and readiness under /api/health', () => {
  let app: ExampleApp;
  before(async () => {
    app = await startExampleApp();
  });
  after(async () => {
    await app?.stop();
  });

  it('GET /api/health/live answers 200 {status: ok}', async () => {
    const response = await fetch(`${app.apiUrl}/health/live`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  for (const path of ['/health/ready', '/health']) {
    it(`GET /api${path} answers 200 with the database up and the chunk folder writable, with its free space`, async () => {
      const response = await fetch(`${app.apiUrl}${path}`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { status: string; database: { status: string }; storage: { status: string; freeBytes: number } };
      assert.equal(body.status, 'ok');
      assert.equal(body.database.status, 'up');
      assert.equal(body.storage.status, 'up');
      assert.ok(Number.isSafeInteger(body.storage.freeBytes) && body.storage.freeBytes > 0, JSON.stringify(body));
    });
  }
});
