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

  it('reads several members, in any case and with spaces, and skips unknown algorithms', () => {
    const header = `unixsum=:AAAA:,  SHA-256 = :${sha256.toString('base64')}: , sha-512=:${sha512.toString('base64')}:`;
    const digests = parseChunkDigests(header, undefined);
    assert.deepEqual(digests.map((d) => d.algorithm), ['sha256', 'sha512']);
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
    assert.deepEqual(digests.map((d) => d.header), ['Content-Digest', 'Content-MD5']);
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
});
