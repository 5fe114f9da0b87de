import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type TestApp, withTestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { startOk } from '../helpers/upload-client';
import { assertFragoError, request, type ErrorKey } from './support/frago-http';
import { rawHead, sendRaw } from '../helpers/raw-http';

for (const kind of databaseKinds()) {
  describe(`answers at the HTTP edge on ${kind}`, () => {
    let t: TestApp;

    withTestApp(kind, {}, (app) => {
      t = app;
    });

    it('every JSON answer of the upload routes says X-Content-Type-Options: nosniff (201, 200, 404, 400)', async () => {
      const started = await request(`${t.uploadUrl}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'a.bin', total_size: 10 }),
      });
      assert.equal(started.status, 201);
      const id = started.body.upload_id as string;
      const answers = [
        started,
        await request(`${t.uploadUrl}/${id}/`),
        await request(`${t.uploadUrl}/${randomUUID()}/`),
        await request(`${t.uploadUrl}/${id}/`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: 'x' }),
      ];
      for (const answer of answers) assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', `status ${answer.status}`);
    });

    const oddIds: Array<[string, string]> = [
      ['a lone %', '%'],
      ['a malformed escape %zz', '%zz'],
      ['200 characters', 'a'.repeat(200)],
      ['200 characters of escapes', '%41'.repeat(200)],
    ];
    for (const [what, id] of oddIds) {
      for (const [method, key] of [
        ['GET', 'message'],
        ['PUT', 'error'],
        ['DELETE', 'message'],
        ['POST', 'message'],
      ] as Array<[string, ErrorKey]>) {
        it(`an id of ${what} on ${method} answers frago's 404 (not Fastify's 400/414), without echoing the URL`, async () => {
          const answer = await sendRaw(t.baseUrl, rawHead(method, `${t.uploadUrl}/${id}/`, { 'content-length': 0 }));
          assert.equal(answer.kind, 'answer');
          if (answer.kind !== 'answer') return;
          assertFragoError({ status: answer.status, body: answer.json, headers: new Headers(answer.headers) }, 404, key, 'UPLOAD_NOT_FOUND');
          assert.ok(!answer.body.includes(id.slice(0, 20)), `the id is not echoed: ${answer.body}`);
          assert.equal(answer.headers['x-content-type-options'], 'nosniff');
        });
      }
    }

    it("an odd id elsewhere in the host app keeps Fastify's own answer", async () => {
      const answer = await sendRaw(t.baseUrl, rawHead('GET', `${t.baseUrl}/api/other/%zz`, {}));
      assert.equal(answer.kind === 'answer' && answer.status, 400);
    });

    it("a JSON body over the body limit answers 413 in frago's body, keeps FST_ERR_CTP_BODY_TOO_LARGE and says so", async () => {
      const big = JSON.stringify({ filename: 'big.bin', total_size: 10, pad: 'x'.repeat(1024 * 1024 + 10) });
      const answer = await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      const text = assertFragoError(answer, 413, 'message', 'FST_ERR_CTP_BODY_TOO_LARGE');
      assert.match(text, /larger than the limit of 1048576 bytes/);
    });

    it("an unsupported Content-Type keeps Fastify's code FST_ERR_CTP_INVALID_MEDIA_TYPE in frago's body", async () => {
      const answer = await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'text/x-unknown' }, body: 'filename=a' });
      assertFragoError(answer, 415, 'message', 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
    });

    it("malformed JSON keeps Fastify's code in frago's body", async () => {
      const answer = await request(`${t.uploadUrl}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filename": ' });
      const body = answer.body;
      assertFragoError(answer, 400, 'message');
      assert.match(String(body.code), /^FST_/);
    });

    it('a start still works after all of that (the server is fine)', async () => {
      assert.ok(await startOk(t.uploadUrl, 'fine.bin', 5));
    });
  });
}
