import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { postMultipart } from './support/frago-http';

// Multipart parsing does not touch the database: SQLite covers it.
describe('@fastify/multipart registered by the host', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sqlite');
  });
  after(async () => {
    await db?.drop();
  });

  describe('with its defaults (file size limit = the 1 MiB body limit)', () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({
        db,
        configure: async (app) => {
          await app.register(fastifyMultipart);
        },
      });
    });
    after(async () => {
      await t?.close();
    });

    it('a 3 MiB multipart chunk is stored whole: frago passes its own per-call limits', async () => {
      const data = testBytes(3 * 1024 * 1024 + 5, 21);
      const id = await startOk(t.uploadUrl, 'beside-host.bin', data.length);
      const put = await putChunk(t.uploadUrl, id, data, 0, data.length);
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      assert.deepEqual(readFileSync(join(t.assembledDir, 'beside-host.bin')), data);
    });

    it('multipart POST forms are still read (start and finalize fields)', async () => {
      const started = await postMultipart(`${t.uploadUrl}/`, { filename: 'form.bin', total_size: '3' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
    });
  });

  it('registered with attachFieldsToBody (which buffers every file), the app refuses to boot and says what to change', async () => {
    await assert.rejects(
      createTestApp({
        db,
        configure: async (app) => {
          await app.register(fastifyMultipart, { attachFieldsToBody: true });
        },
      }),
      (error: Error) => {
        assert.match(error.message, /attachFieldsToBody/);
        assert.match(error.message, /without attachFieldsToBody/);
        return true;
      },
    );
  });

  it('a multipart parser that is not @fastify/multipart makes the boot fail with a message naming it', async () => {
    await assert.rejects(
      createTestApp({
        db,
        configure: (app) => {
          app
            .getHttpAdapter()
            .getInstance()
            .addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
        },
      }),
      /other than @fastify\/multipart/,
    );
  });
});
