import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readStartUpload } from 'nestjs-frago/dist/http/dto/start-upload.dto';
import { readFinalizeUpload } from 'nestjs-frago/dist/http/dto/finalize-upload.dto';
import { readListUploadsQuery } from 'nestjs-frago/dist/http/dto/list-uploads.query';
import { InvalidInputError } from 'nestjs-frago';

/** The 400 message `read` answers for `plain`, or null when it accepts it. */
function refusal(read: (plain: Record<string, unknown>) => unknown, plain: Record<string, unknown>): string | null {
  try {
    read(plain);
    return null;
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, String(error));
    return error.message;
  }
}

describe('the fields of Start, Finalize and List', () => {
  it('Start takes a filename and a positive integer total_size given as a number or as decimal digits, and nothing else', () => {
    assert.deepEqual(readStartUpload({ filename: 'a.bin', total_size: 12, owner: 'x' }), { filename: 'a.bin', total_size: 12 });
    assert.deepEqual(readStartUpload({ filename: 'a.bin', total_size: ' 12 ' }), { filename: 'a.bin', total_size: 12 });
    const bad: Array<[Record<string, unknown>, string]> = [
      [{}, 'filename is required'],
      [{ filename: null, total_size: 'x' }, 'filename is required'],
      [{ filename: 7, total_size: 1 }, 'filename must be a string'],
      [{ filename: 'a' }, 'total_size is required'],
      [{ filename: 'a', total_size: '' }, 'total_size is required'],
      [{ filename: 'a', total_size: 0 }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: '0' }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: 1.5 }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: '1.5' }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: '12345678901234567' }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: [1] }, 'total_size must be a positive integer'],
      [{ filename: 'a', total_size: true }, 'total_size must be a positive integer'],
    ];
    for (const [plain, message] of bad) assert.equal(refusal(readStartUpload, plain), message, JSON.stringify(plain));
  });

  it('Finalize takes an optional checksum and checksum_algo, each a string of bounded length', () => {
    assert.deepEqual(readFinalizeUpload({ checksum: 'ab', extra: 1 }), { checksum: 'ab', checksum_algo: undefined });
    assert.equal(refusal(readFinalizeUpload, { checksum: 'a'.repeat(512), checksum_algo: 'a'.repeat(64) }), null);
    assert.equal(refusal(readFinalizeUpload, { checksum: 'a'.repeat(513) }), 'checksum is too long');
    assert.equal(refusal(readFinalizeUpload, { checksum: 12 }), 'checksum must be a string');
    assert.equal(refusal(readFinalizeUpload, { checksum_algo: ['md5'] }), 'checksum_algo must be a string');
    assert.equal(refusal(readFinalizeUpload, { checksum_algo: 'a'.repeat(65) }), 'checksum_algo is too long (at most 64 characters)');
  });

  it('List takes limit 1–1000, offset ≥ 0 and a known status, each optional', () => {
    assert.deepEqual(readListUploadsQuery({}), { limit: undefined, offset: undefined, status: undefined });
    assert.deepEqual(readListUploadsQuery({ limit: '1000', offset: '0', status: 'complete' }), { limit: 1000, offset: 0, status: 'complete' });
    for (const limit of ['0', '1001', 'ten', '-1', ['1', '2']]) {
      assert.equal(refusal(readListUploadsQuery, { limit }), 'limit must be an integer from 1 to 1000', JSON.stringify(limit));
    }
    assert.equal(refusal(readListUploadsQuery, { offset: '-1' }), 'offset must be an integer ≥ 0');
    assert.equal(refusal(readListUploadsQuery, { status: 'done' }), 'status must be one of in_progress, complete, expired');
  });
});
