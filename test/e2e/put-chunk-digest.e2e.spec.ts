/** PUT /upload/:id/ with Content-Digest (RFC 9530) or Content-MD5: a wrong digest stores nothing, a right one is accepted, a malformed one is a 400. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';
import { assertFragoError } from './support/frago-http';
import { assertChunks, contentDigest, MAX_CHUNK, md5Base64 } from './support/put-chunk';
import { useTestApp } from './support/use-test-app';

for (const kind of databaseKinds()) {
  describe(`chunk digests (Content-Digest, Content-MD5) on PUT /upload/:id/ on ${kind}`, () => {
    const app = useTestApp(kind, { maxChunkSize: MAX_CHUNK }, { failOnUncaught: true });

    it('answers 400 to a wrong Content-Digest (sha-256, sha-512) or Content-MD5 and records nothing', async () => {
      const data = testBytes(4000, 6);
      const wrong = testBytes(1000, 99);
      const id = await startOk(app.t.uploadUrl, 'digest.bin', data.length);
      const chunk = data.subarray(0, 1000);
      const cases: Array<Record<string, string>> = [
        { 'content-digest': contentDigest(wrong, 'sha256') },
        { 'content-digest': contentDigest(wrong, 'sha512') },
        { 'content-md5': md5Base64(wrong) },
        { 'content-md5': digest(wrong, 'md5') },
        { 'content-digest': `${contentDigest(chunk, 'sha256')}, ${contentDigest(wrong, 'sha512')}` },
        { 'content-digest': contentDigest(chunk, 'sha256'), 'content-md5': md5Base64(wrong) },
      ];
      for (const headers of cases) {
        for (const multipart of [false, true]) {
          const response = await putChunk(app.t.uploadUrl, id, chunk, 0, data.length, { headers, multipart });
          assertFragoError(response, 400, 'error', 'DIGEST_MISMATCH');
        }
      }
      await assertChunks(app.t.uploadUrl, id, []);
      assert.equal(app.events.count(app.events.chunks, id), 0, 'no chunk.received for a refused chunk');
    });

    it('answers 200 to a correct Content-Digest or Content-MD5, raw and multipart', async () => {
      const data = testBytes(6000, 7);
      const id = await startOk(app.t.uploadUrl, 'digest-ok.bin', data.length);
      const chunks = [0, 1000, 2000, 3000, 4000, 5000].map((start) => data.subarray(start, start + 1000));
      const headers: Array<(c: Uint8Array) => Record<string, string>> = [
        (c) => ({ 'content-digest': contentDigest(c, 'sha256') }),
        (c) => ({ 'content-digest': contentDigest(c, 'sha512') }),
        (c) => ({ 'content-md5': md5Base64(c) }),
        (c) => ({ 'content-md5': digest(c, 'md5') }),
        (c) => ({ 'content-digest': `${contentDigest(c, 'sha256')}, ${contentDigest(c, 'sha512')}` }),
        (c) => ({ 'content-digest': `unknown-algo=:AAAA:, ${contentDigest(c, 'sha512')}`, 'content-md5': md5Base64(c) }),
      ];
      for (let i = 0; i < chunks.length; i++) {
        const response = await putChunk(app.t.uploadUrl, id, chunks[i], i * 1000, data.length, { headers: headers[i](chunks[i]), multipart: i % 2 === 1 });
        assert.equal(response.status, 200, `case ${i}: ${JSON.stringify(response.body)}`);
      }
      assert.equal((await finalize(app.t.uploadUrl, id, { checksum: digest(data) })).status, 201);
    });

    it('accepts a chunk refused for a wrong digest when it is sent again with the right one', async () => {
      const data = testBytes(2000, 8);
      const id = await startOk(app.t.uploadUrl, 'retry.bin', data.length);
      const chunk = data.subarray(0, 2000);
      const bad = await putChunk(app.t.uploadUrl, id, chunk, 0, data.length, { headers: { 'content-digest': contentDigest(testBytes(2000, 9), 'sha256') } });
      assertFragoError(bad, 400, 'error', 'DIGEST_MISMATCH');
      const good = await putChunk(app.t.uploadUrl, id, chunk, 0, data.length, { headers: { 'content-digest': contentDigest(chunk, 'sha256') } });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.equal(good.body.duplicate, undefined);
      await assertChunks(app.t.uploadUrl, id, [{ start: 0, end: 1999, size: 2000 }]);
    });

    it('answers 400 to a malformed Content-Digest or Content-MD5', async () => {
      const data = testBytes(100, 10);
      const id = await startOk(app.t.uploadUrl, 'malformed-digest.bin', data.length);
      const sha = createHash('sha256').update(data).digest('base64');
      const cases: Array<Record<string, string>> = [
        { 'content-digest': `sha-256=${sha}` },
        { 'content-digest': 'sha-256=:not base64!:' },
        { 'content-digest': `sha-256=:${createHash('sha256').update(data).digest('base64').slice(0, 20)}:` },
        { 'content-digest': `sha-512=:${sha}:` },
        { 'content-digest': 'garbage' },
        { 'content-md5': 'short' },
        { 'content-md5': sha },
      ];
      for (const headers of cases) {
        const response = await putChunk(app.t.uploadUrl, id, data, 0, data.length, { headers });
        assertFragoError(response, 400, 'error', 'INVALID_INPUT');
      }
      await assertChunks(app.t.uploadUrl, id, []);
    });
  });
}
