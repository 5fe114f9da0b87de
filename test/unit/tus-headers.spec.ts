import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FragoError } from 'nestjs-frago';
import * as tus from 'nestjs-frago/dist/tus/tus-headers';
import { contiguousOffset } from 'nestjs-frago/dist/tus/tus-offset';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FragoError, String(error));
    return error.code;
  }
  throw new Error('expected a FragoError');
}

const ID = '0b0f9c52-6c1e-4f57-9a4c-3d5c2f1e8a11';

describe('tus header validators', () => {
  it('Tus-Resumable must be 1.0.0 (412 code otherwise, also when absent)', () => {
    tus.checkTusResumable('1.0.0');
    tus.checkTusResumable(' 1.0.0 ');
    assert.equal(
      code(() => tus.checkTusResumable('0.2.2')),
      'TUS_VERSION_UNSUPPORTED',
    );
    assert.equal(
      code(() => tus.checkTusResumable(undefined)),
      'TUS_VERSION_UNSUPPORTED',
    );
  });

  it('Upload-Offset is a required non-negative integer', () => {
    assert.equal(tus.parseUploadOffset('0'), 0);
    assert.equal(tus.parseUploadOffset('123456789012'), 123456789012);
    for (const bad of [undefined, '', '-1', '1.5', '01', 'abc', '1e3', '99999999999999999'])
      assert.equal(
        code(() => tus.parseUploadOffset(bad)),
        'INVALID_INPUT',
        String(bad),
      );
  });

  it('Upload-Length is optional; Upload-Defer-Length must be 1', () => {
    assert.equal(tus.parseUploadLength(undefined), undefined);
    assert.equal(tus.parseUploadLength('42'), 42);
    assert.equal(
      code(() => tus.parseUploadLength('x')),
      'INVALID_INPUT',
    );
    assert.equal(tus.parseDeferLength(undefined), false);
    assert.equal(tus.parseDeferLength('1'), true);
    assert.equal(
      code(() => tus.parseDeferLength('0')),
      'INVALID_INPUT',
    );
  });

  it('PATCH Content-Type must be application/offset+octet-stream (415 code)', () => {
    tus.checkPatchContentType('application/offset+octet-stream');
    tus.checkPatchContentType('Application/Offset+Octet-Stream; charset=binary');
    for (const bad of [undefined, 'application/octet-stream', 'text/plain'])
      assert.equal(
        code(() => tus.checkPatchContentType(bad)),
        'UNSUPPORTED_MEDIA_TYPE',
      );
  });

  it('Upload-Metadata: comma-separated "key base64" pairs, empty values allowed, unique non-empty keys', () => {
    const parsed = tus.parseUploadMetadata(
      `filename ${Buffer.from('ä b.txt').toString('base64')},is_confidential, type ${Buffer.from('text/plain').toString('base64')}`,
    );
    assert.equal(parsed.values.get('filename'), 'ä b.txt');
    assert.equal(parsed.values.get('is_confidential'), '');
    assert.equal(parsed.values.get('type'), 'text/plain');
    assert.deepEqual(tus.parseUploadMetadata(undefined), { raw: null, values: new Map() });
    for (const bad of ['a b c', 'a !!!', 'a YQ==,a Yg==', ',', 'x'.repeat(5000)])
      assert.equal(
        code(() => tus.parseUploadMetadata(bad)),
        'INVALID_INPUT',
        bad.slice(0, 20),
      );
  });

  it('Upload-Checksum: "<algorithm> <base64>" with sha1, sha256 or md5; others are refused', () => {
    const parsed = tus.parseUploadChecksum('sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=');
    assert.equal(parsed?.algorithm, 'sha1');
    assert.equal(parsed?.digest.length, 20);
    assert.equal(tus.parseUploadChecksum(undefined), undefined);
    assert.equal(
      code(() => tus.parseUploadChecksum('crc32 AAAA')),
      'UNSUPPORTED_ALGORITHM',
    );
    for (const bad of ['sha1', 'sha1 !!', 'sha1 AA AA'])
      assert.equal(
        code(() => tus.parseUploadChecksum(bad)),
        'INVALID_INPUT',
        bad,
      );
  });

  it('Upload-Concat: partial, or final; with URLs whose last segment is an upload UUID', () => {
    assert.deepEqual(tus.parseUploadConcat(undefined), { kind: 'none' });
    assert.deepEqual(tus.parseUploadConcat('partial'), { kind: 'partial' });
    assert.deepEqual(tus.parseUploadConcat(`final;/files/${ID} http://h/files/${ID.toUpperCase()}/`), { kind: 'final', parts: [ID, ID] });
    for (const bad of ['final;', 'final;/files/abc', 'nope', `final ${ID}`])
      assert.equal(
        code(() => tus.parseUploadConcat(bad)),
        'INVALID_INPUT',
        bad,
      );
    assert.equal(tus.uploadIdFromUrl(`/api/files/${ID}?x=1`), ID);
    assert.equal(tus.uploadIdFromUrl('/api/files/'), null);
  });

  it('X-HTTP-Method-Override names a tus method or is refused', () => {
    assert.equal(tus.methodOverride(undefined), null);
    assert.equal(tus.methodOverride('patch'), 'PATCH');
    assert.equal(tus.methodOverride('DELETE'), 'DELETE');
    assert.equal(
      code(() => tus.methodOverride('PUT')),
      'INVALID_INPUT',
    );
  });

  it('the offset is the end of the contiguous run of chunks from 0', () => {
    assert.equal(contiguousOffset([]), 0);
    assert.equal(
      contiguousOffset([
        { start: 0, end: 9 },
        { start: 10, end: 19 },
      ]),
      20,
    );
    assert.equal(
      contiguousOffset([
        { start: 10, end: 19 },
        { start: 0, end: 9 },
      ]),
      20,
    );
    assert.equal(
      contiguousOffset([
        { start: 0, end: 9 },
        { start: 20, end: 29 },
      ]),
      10,
    );
    assert.equal(contiguousOffset([{ start: 5, end: 9 }]), 0);
  });
});
