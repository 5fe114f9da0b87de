import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp, type TestAppOptions } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from '../helpers/test-databases';
import { digest, testBytes } from '../helpers/upload-client';
import { assertFragoError, request } from './support/frago-http';

const user = { 'x-user': 'route-tester' };

/** One app (and database) for the enclosing describe block. */
function useApp(kind: DatabaseKind, config: Omit<TestAppOptions, 'db'>): { t: TestApp } {
  let db: TestDatabase;
  const state = {} as { t: TestApp };
  before(async () => {
    db = await createTestDatabase(kind);
    state.t = await createTestApp({ db, ...config, options: { identifierMode: 'user', ...config.options } });
  });
  after(async () => {
    await state.t?.close();
    await db?.drop();
  });
  return state;
}

/**
 * Runs every operation against `base` (the collection URL without a trailing
 * slash), adding `slash` ('' or '/') after each path: start, list, status,
 * chunk, finalize, and abort of a second upload.
 */
async function everyOperation(base: string, slash: '' | '/', assembledDir: string): Promise<void> {
  const data = testBytes(2000, slash.length + 1);
  const name = `route${slash === '/' ? '-slash' : ''}-${Date.now().toString(36)}.bin`;
  const json = { ...user, 'content-type': 'application/json' };
  const started = await request(`${base}${slash}`, { method: 'POST', headers: json, body: JSON.stringify({ filename: name, total_size: data.length }) });
  assert.equal(started.status, 201, `POST ${slash}: ${JSON.stringify(started.body)}`);
  const id = started.body.upload_id as string;
  const item = `${base}/${id}${slash}`;

  const listed = await request(`${base}${slash}`, { headers: user });
  assert.equal(listed.status, 200, `GET list ${slash}`);
  assert.ok((listed.body as unknown as Array<{ upload_id: string }>).some((entry) => entry.upload_id === id));

  const put = await request(item, {
    method: 'PUT',
    headers: { ...user, 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-1999/2000' },
    body: data as Uint8Array<ArrayBuffer>,
  });
  assert.equal(put.status, 200, `PUT ${slash}: ${JSON.stringify(put.body)}`);

  const status = await request(item, { headers: user });
  assert.equal(status.status, 200, `GET ${slash}`);
  assert.equal(status.body.received_bytes, 2000);

  const done = await request(item, { method: 'POST', headers: json, body: JSON.stringify({ checksum: digest(data) }) });
  assert.equal(done.status, 201, `POST finalize ${slash}: ${JSON.stringify(done.body)}`);
  assert.deepEqual(readFileSync(join(assembledDir, name)), data);

  const other = await request(`${base}${slash}`, { method: 'POST', headers: json, body: JSON.stringify({ filename: 'to-delete.bin', total_size: 5 }) });
  const deleted = await fetch(`${base}/${other.body.upload_id as string}${slash}`, { method: 'DELETE', headers: user });
  assert.equal(deleted.status, 204, `DELETE ${slash}`);
}

for (const kind of databaseKinds()) {
  describe(`routes with the default prefix (/api/upload) on ${kind}`, () => {
    const app = useApp(kind, {});

    it('answers every operation without a trailing slash', async () => {
      assert.match(app.t.uploadUrl, /\/api\/upload$/);
      await everyOperation(app.t.uploadUrl, '', app.t.assembledDir);
    });

    it('answers every operation with a trailing slash (as frago clients send)', async () => {
      await everyOperation(app.t.uploadUrl, '/', app.t.assembledDir);
    });

    it('answers 404 outside the routes: other paths, unsupported methods, deeper paths', async () => {
      const id = '6f1c2a9e-0000-4000-8000-000000000000';
      assert.equal((await request(`${app.t.baseUrl}/upload/`, { headers: user })).status, 404, 'no route without the global prefix');
      assert.equal((await request(`${app.t.uploadUrl}s/`, { headers: user })).status, 404);
      assert.equal((await request(`${app.t.uploadUrl}/${id}/extra/`, { headers: user })).status, 404);
      assert.equal((await request(`${app.t.uploadUrl}/`, { method: 'DELETE', headers: user })).status, 404);
      assert.equal((await request(`${app.t.uploadUrl}/`, { method: 'PUT', headers: user })).status, 404);
      assert.equal((await request(`${app.t.uploadUrl}/${id}/`, { method: 'PATCH', headers: user })).status, 404);
    });
  });

  describe(`routes with routePrefix 'files/chunked' on ${kind}`, () => {
    const app = useApp(kind, { extras: { routePrefix: 'files/chunked' } });

    it('serves every operation at /api/files/chunked, with and without a trailing slash', async () => {
      assert.match(app.t.uploadUrl, /\/api\/files\/chunked$/);
      await everyOperation(app.t.uploadUrl, '', app.t.assembledDir);
      await everyOperation(app.t.uploadUrl, '/', app.t.assembledDir);
    });

    it('no longer answers at /api/upload', async () => {
      const response = await request(`${app.t.baseUrl}/api/upload/`, {
        method: 'POST',
        headers: { ...user, 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'x.bin', total_size: 5 }),
      });
      assert.equal(response.status, 404);
    });

    it("answers errors raised before the controller in frago's shape on the custom path", async () => {
      const response = await request(`${app.t.uploadUrl}/`, { method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: '{"filename":' });
      assertFragoError(response, 400, 'message');
    });
  });

  describe(`routes with a custom global prefix 'v2/storage' on ${kind}`, () => {
    const app = useApp(kind, { prefix: 'v2/storage' });

    it('serves every operation at /v2/storage/upload, with and without a trailing slash', async () => {
      assert.match(app.t.uploadUrl, /\/v2\/storage\/upload$/);
      await everyOperation(app.t.uploadUrl, '', app.t.assembledDir);
      await everyOperation(app.t.uploadUrl, '/', app.t.assembledDir);
      assert.equal((await request(`${app.t.baseUrl}/api/upload/`, { headers: user })).status, 404);
    });
  });

  describe(`routes with no global prefix on ${kind}`, () => {
    const app = useApp(kind, { prefix: '' });

    it('serves every operation at /upload, with and without a trailing slash', async () => {
      assert.equal(app.t.uploadUrl, `${app.t.baseUrl}/upload`);
      await everyOperation(app.t.uploadUrl, '', app.t.assembledDir);
      await everyOperation(app.t.uploadUrl, '/', app.t.assembledDir);
    });
  });
}
