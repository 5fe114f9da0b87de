import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve(__dirname, '../../../libs/chunked-upload/src');

/**
 * The library's layers, lowest first: a file may import its own folder or a lower layer, never a
 * higher one. Pure types and helpers sit at the bottom, the HTTP edge and the module at the top.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['protocol'],
  ['domain', 'errors', 'chunked-upload.constants'],
  ['entities', 'storage', 'migrations'],
  ['identifier', 'events', 's3'],
  ['options'],
  ['services'],
  ['http'],
  ['tus'],
];

/** The top of the tree (module, providers, index, decorators) may import anything, each other too. */
const TOP = LAYERS.length;

function layerOf(file: string): { unit: string; layer: number } {
  const [head] = relative(SRC, file).split(sep);
  const unit = head.replace(/\.ts$/, '');
  const layer = LAYERS.findIndex((names) => names.includes(unit));
  return { unit, layer: layer === -1 ? TOP : layer };
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bfrom\s+'(\.[^']*)'/g)].map((match) => resolve(dirname(file), match[1]));
}

describe('library layers', () => {
  it('finds the library sources', () => {
    assert.ok(sources(SRC).length > 20);
  });

  it('no file in libs/chunked-upload imports a higher layer', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      for (const target of relativeImports(file)) {
        const to = layerOf(target);
        const sideways = to.layer === from.layer && to.unit !== from.unit && from.layer !== TOP;
        if (to.layer > from.layer || sideways) upward.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(upward, []);
  });
});
