import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FRAGO_ERROR_STATUS } from 'nestjs-frago/dist/http/frago-exception.filter';

const README = readFileSync(join(resolve(__dirname, '../../..'), 'README.md'), 'utf8');

/** The rows of the README's error-code table: code → status. */
function documentedCodes(): Map<string, number> {
  const table = /<!-- error-codes -->([\s\S]*?)<!-- \/error-codes -->/.exec(README);
  assert.ok(table, 'the README has an <!-- error-codes --> table');
  const rows = new Map<string, number>();
  for (const line of table[1].split('\n')) {
    const row = /^\| `([A-Z0-9_]+)` \| (\d{3}) \|/.exec(line);
    if (row) rows.set(row[1], Number(row[2]));
  }
  return rows;
}

describe('README error codes', () => {
  it('lists every error code of the module once, with the status the exception filter answers', () => {
    const documented = documentedCodes();
    assert.deepEqual(Object.fromEntries([...documented].sort()), Object.fromEntries(Object.entries(FRAGO_ERROR_STATUS).sort()));
  });
});
