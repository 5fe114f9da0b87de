import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseChunkDigests } from 'nestjs-frago/dist/http/content-digest';
import { FragoError } from 'nestjs-frago';

const DATA = Buffer.from('the chunk bytes');
const sha256 = createHash('sha256').update(DATA).digest();
const sha512 = createHash('sha512').update(DATA).digest();
const md5 = createHash('md5').update(DATA).digest();

function refused(contentDigest: string | string[] | undefined, contentMd5?: string | string[]): void {
  assert.throws(
    () => parseChunkDigests(contentDigest, contentMd5),
    (error: unknown) => error instanceof FragoError && error.code === 'INVALID_INPUT',
    `should refuse ${JSON.stringify({ contentDigest, contentMd5 })}`,
  );
}

describe('parseChunkDigests', () => {
  it('returns nothing when neither header is sent', () => {
    assert.deepEqual(parseChunkDigests(undefined, undefined), []);
  });

  it('reads an RFC 9530 sha-256 or sha-512 Content-Digest', () => {
    assert.deepEqual(parseChunkDigests(`sha-256=:${sha256.toString('base64')}:`, undefined), [
      { algorithm: 'sha256', value: sha256, header: 'Content-Digest' },
    ]);
    assert.deepEqual(parseChunkDigests(`sha-512=:${sha512.toString('base64')}:`, undefined), [
      { algorithm: 'sha512', value: sha512, header: 'Content-Digest' },
    ]);
  });

  it('reads several members with optional spaces after the commas, and skips unknown algorithms', () => {
    const header = `unixsum=:AAAA:,  sha-256=:${sha256.toString('base64')}: , sha-512=:${sha512.toString('base64')}:`;
    const digests = parseChunkDigests(header, undefined);
    assert.deepEqual(
      digests.map((d) => d.algorithm),
      ['sha256', 'sha512'],
    );
    assert.ok(digests[0].value.equals(sha256));
    assert.ok(digests[1].value.equals(sha512));
  });

  it('reads Content-MD5 in base64 (RFC 1864) and in hex', () => {
    assert.deepEqual(parseChunkDigests(undefined, md5.toString('base64')), [{ algorithm: 'md5', value: md5, header: 'Content-MD5' }]);
    assert.deepEqual(parseChunkDigests(undefined, md5.toString('hex')), [{ algorithm: 'md5', value: md5, header: 'Content-MD5' }]);
    assert.deepEqual(parseChunkDigests(undefined, md5.toString('hex').toUpperCase())[0].value, md5);
  });

  it('combines both headers', () => {
    const digests = parseChunkDigests(`sha-256=:${sha256.toString('base64')}:`, md5.toString('base64'));
    assert.deepEqual(
      digests.map((d) => d.header),
      ['Content-Digest', 'Content-MD5'],
    );
  });

  it('refuses a malformed Content-Digest', () => {
    const b64 = sha256.toString('base64');
    refused(`sha-256=${b64}`); // not a byte sequence
    refused(`sha-256=:${b64}`); // unterminated
    refused('sha-256=:not base64!:');
    refused(`sha-256=:${b64.slice(0, 20)}:`); // too short
    refused(`sha-512=:${b64}:`); // a sha-256 length under sha-512
    refused('garbage');
    refused('');
    refused(`SHA-256=:${b64}:`); // RFC 8941 keys are lower case
    refused(`sha-256 = :${b64}:`); // no space around '='
    refused(`sha-256=(:${b64}:)`); // an inner list, not a byte sequence
    refused(`sha-256=1`);
  });

  it('refuses a Content-Digest naming no supported algorithm', () => {
    refused('md5=:AAAA:');
    refused('unixsum=:AAAA:, id-sha-256=:AAAA:');
  });

  it('refuses a malformed Content-MD5', () => {
    refused(undefined, 'short');
    refused(undefined, sha256.toString('base64'));
    refused(undefined, 'z'.repeat(32));
    refused(undefined, '');
  });

  it('refuses a repeated header', () => {
    const member = `sha-256=:${sha256.toString('base64')}:`;
    refused([member, member]);
    refused(undefined, [md5.toString('base64'), md5.toString('base64')]);
  });

  // RFC 9530 Appendix B and §2: the request content is `{"hello": "world"}` (and its variants).
  describe('RFC 9530 examples', () => {
    const HELLO = Buffer.from('{"hello": "world"}');
    const HELLO_SHA256 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=';
    const HELLO_SHA512 = 'WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==';

    it('the examples hash the content they name', () => {
      assert.equal(createHash('sha256').update(HELLO).digest('base64'), HELLO_SHA256);
      assert.equal(createHash('sha512').update(HELLO).digest('base64'), HELLO_SHA512);
    });

    it('reads a single sha-256 digest', () => {
      const [digest] = parseChunkDigests(`sha-256=:${HELLO_SHA256}:`, undefined);
      assert.equal(digest.algorithm, 'sha256');
      assert.equal(digest.value.toString('base64'), HELLO_SHA256);
    });

    it('reads several digests, on one line or folded after the comma', () => {
      for (const header of [`sha-256=:${HELLO_SHA256}:, sha-512=:${HELLO_SHA512}:`, `sha-512=:${HELLO_SHA512}:,\tsha-256=:${HELLO_SHA256}:`]) {
        const digests = parseChunkDigests(header, undefined);
        assert.deepEqual(digests.map((d) => [d.algorithm, d.value.toString('base64')]).sort(), [
          ['sha256', HELLO_SHA256],
          ['sha512', HELLO_SHA512],
        ]);
      }
    });

    it("ignores members it does not know whatever their value (the registry's insecure ones, integers, tokens, lists)", () => {
      const header = `unixsum=30637, md5=:Sd/dVLAcvNLSq16eXua5uQ==:, id-sha-256=:AAAA:, adler=token, x-list=(1 2), flag, sha-256=:${HELLO_SHA256}:`;
      const digests = parseChunkDigests(header, undefined);
      assert.deepEqual(
        digests.map((d) => d.algorithm),
        ['sha256'],
      );
    });

    it('ignores parameters on a member (RFC 8941 §3.1.2; RFC 9530 defines none)', () => {
      const digests = parseChunkDigests(`sha-256=:${HELLO_SHA256}:;keyid="k1";n=1, sha-512=:${HELLO_SHA512}:;x`, undefined);
      assert.deepEqual(
        digests.map((d) => d.value.toString('base64')),
        [HELLO_SHA256, HELLO_SHA512],
      );
    });

    it('keeps the last of a repeated key, as RFC 8941 §4.2.2 says', () => {
      const digests = parseChunkDigests(`sha-256=:${sha256.toString('base64')}:, sha-256=:${HELLO_SHA256}:`, undefined);
      assert.deepEqual(
        digests.map((d) => d.value.toString('base64')),
        [HELLO_SHA256],
      );
    });

    it('refuses a header that names only algorithms it does not check', () => {
      refused('unixsum=30637, md5=:Sd/dVLAcvNLSq16eXua5uQ==:');
    });
  });
});
