import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve, sep } from 'node:path';
import fc from 'fast-check';
import { confineRelativePath, filenameProblem, numberedAlternative, safeFilename } from 'nestjs-frago/dist/domain/safe-filename';

const ROOT = resolve('/srv/assembled');

/** True when `relativePath` joined to ROOT stays strictly inside it. */
function staysInside(relativePath: string): boolean {
  const target = resolve(ROOT, relativePath);
  return target.startsWith(ROOT + sep);
}

describe('safeFilename', () => {
  it('keeps ordinary names as they are', () => {
    for (const name of ['report.pdf', 'photo 2024-01-01 (1).jpg', 'data_v2+final@home.tar.gz', 'Ünïcödé – naïve.txt', '日本語.txt']) {
      assert.equal(safeFilename(name), name.replace(/–/g, '_'));
    }
  });

  it('keeps only the last path segment', () => {
    assert.equal(safeFilename('../../etc/passwd'), 'passwd');
    assert.equal(safeFilename('/absolute/path/file.txt'), 'file.txt');
    assert.equal(safeFilename('..\\..\\windows\\system32\\evil.dll'), 'evil.dll');
    assert.equal(safeFilename('dir/'), 'upload');
  });

  it('replaces separators-like and control characters and collapses runs of "_"', () => {
    assert.equal(safeFilename('we<ird>|na:me?.txt'), 'we_ird_na_me_.txt');
    assert.equal(safeFilename('a\u0000b\nc.txt'), 'a_b_c.txt');
    assert.equal(safeFilename('semi;colon*star".txt'), 'semi_colon_star_.txt');
  });

  it('removes leading dots and spaces and trailing dots and spaces (no hidden files, no Windows traps)', () => {
    assert.equal(safeFilename('.bashrc'), 'bashrc');
    assert.equal(safeFilename('...hidden.txt'), 'hidden.txt');
    assert.equal(safeFilename('  spaced.txt  '), 'spaced.txt');
    assert.equal(safeFilename('trailing.txt...'), 'trailing.txt');
  });

  it('falls back to "upload" when nothing usable is left', () => {
    for (const name of ['', '.', '..', '...', '/', './..', '???', '\u0000', '   ']) {
      assert.equal(safeFilename(name), 'upload', JSON.stringify(name));
    }
  });

  it('shortens names to at most 200 bytes, keeping the extension and whole characters', () => {
    const long = `${'a'.repeat(300)}.tar`;
    const short = safeFilename(long);
    assert.ok(Buffer.byteLength(short) <= 200);
    assert.ok(short.endsWith('.tar'));
    const multibyte = safeFilename(`${'é'.repeat(150)}.txt`);
    assert.ok(Buffer.byteLength(multibyte) <= 200);
    assert.ok(multibyte.endsWith('.txt'));
    assert.doesNotMatch(multibyte, /\uFFFD/, 'no character cut in half');
    const emoji = safeFilename('😀'.repeat(100));
    assert.ok(Buffer.byteLength(emoji) <= 200);
    assert.equal(emoji.length % 2, 0, 'no surrogate pair cut in half');
  });

  it('always yields a non-empty single segment without separators or a leading dot, at most 200 bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 }), fc.constantFrom('..', '.', '/', '\\', '../..', '.\\.')),
        (name) => {
          const safe = safeFilename(name);
          assert.ok(safe.length > 0);
          // eslint-disable-next-line no-control-regex -- the assertion is that no control character survives
          assert.doesNotMatch(safe, /[\\/\u0000-\u001f\u007f]/);
          assert.ok(!safe.startsWith('.'));
          assert.ok(safe !== '.' && safe !== '..');
          assert.ok(Buffer.byteLength(safe) <= 200);
          assert.ok(staysInside(safe));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('confineRelativePath', () => {
  it('drops ".", ".." and empty segments and sanitises the others', () => {
    assert.equal(confineRelativePath('../../etc/passwd'), 'etc/passwd');
    assert.equal(confineRelativePath('/abs//path/./file.txt'), 'abs/path/file.txt');
    assert.equal(confineRelativePath('a\\..\\..\\b.txt'), 'a/b.txt');
    assert.equal(confineRelativePath('owner-1/2024/report.pdf'), 'owner-1/2024/report.pdf');
    assert.equal(confineRelativePath('.hidden/.file'), 'hidden/file');
  });

  it('falls back to "upload" for a path with nothing left', () => {
    for (const path of ['', '/', '..', '../..', './.', '//\\\\']) assert.equal(confineRelativePath(path), 'upload', JSON.stringify(path));
  });

  it('never escapes the folder it is joined to, whatever the input (property)', () => {
    const segment = fc.oneof(fc.constantFrom('..', '.', '', '...', '~', 'etc', 'a b', '..\\..', '/'), fc.string({ maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.constantFrom('/', '\\', '//'), (segments, joiner) => {
        const confined = confineRelativePath(segments.join(joiner));
        assert.ok(staysInside(confined), `${JSON.stringify(segments)} → ${confined}`);
        assert.ok(!confined.startsWith('/'));
        for (const part of confined.split('/')) {
          assert.ok(part !== '' && part !== '.' && part !== '..', `bad segment in ${confined}`);
          assert.ok(!part.includes('\\'));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('numberedAlternative', () => {
  it('inserts -N before the extension', () => {
    assert.equal(numberedAlternative('report.pdf', 1), 'report-1.pdf');
    assert.equal(numberedAlternative('archive.tar.gz', 2), 'archive.tar-2.gz');
    assert.equal(numberedAlternative('README', 3), 'README-3');
  });

  it('keeps the folder and numbers only the file name', () => {
    assert.equal(numberedAlternative('dir.v1/report.pdf', 1), 'dir.v1/report-1.pdf');
    assert.equal(numberedAlternative('dir.v1/README', 12), 'dir.v1/README-12');
  });

  it('gives a distinct name for each N, all different from the original and inside the folder', () => {
    const names = new Set(['same.bin']);
    for (let n = 1; n <= 50; n++) names.add(numberedAlternative('same.bin', n));
    assert.equal(names.size, 51);
    for (const name of names) assert.ok(staysInside(name));
  });
});

describe('filenameProblem', () => {
  it('accepts ordinary names, names up to 255 bytes and path-like names (they are sanitised later)', () => {
    for (const name of ['a', 'report.pdf', 'b'.repeat(255), `${'é'.repeat(127)}x`, '../../etc/passwd', '.bashrc', 'dir/file']) {
      assert.equal(filenameProblem(name), null, JSON.stringify(name));
    }
  });

  it('refuses empty names and names over 255 bytes, counting UTF-8 bytes', () => {
    assert.match(filenameProblem('') ?? '', /empty/);
    assert.match(filenameProblem('a'.repeat(256)) ?? '', /255/);
    assert.match(filenameProblem('é'.repeat(128)) ?? '', /255/);
    assert.match(filenameProblem('😀'.repeat(64)) ?? '', /255/);
  });

  it('refuses names of only dots, spaces and separators', () => {
    for (const name of ['.', '..', '...', '/', '\\', './..', ' ', ' / . ']) assert.notEqual(filenameProblem(name), null, JSON.stringify(name));
  });

  it('refuses NUL and other control characters (C0, DEL, C1)', () => {
    for (const name of ['a\u0000', 'a\nb', '\tx', 'x\u001f', 'x\u007f', 'x\u0085', 'x\u009f']) {
      assert.match(filenameProblem(name) ?? '', /control/, JSON.stringify(name));
    }
  });

  it('refuses lone surrogates (not valid Unicode) but accepts pairs', () => {
    assert.notEqual(filenameProblem('bad\ud800.txt'), null);
    assert.notEqual(filenameProblem('bad\udc00.txt'), null);
    assert.equal(filenameProblem('ok😀.txt'), null);
  });
});
