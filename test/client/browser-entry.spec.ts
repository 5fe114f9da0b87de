/**
 * The browser entry of nestjs-frago-client (dist/index.js and everything it
 * requires) must load nothing Node-only: no `node:` modules, no fs/crypto/…,
 * no `Buffer`. The Node entry (dist/node.js) is the one place for those.
 */
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './support/example-app';

const DIST = join(REPO_ROOT, 'libs', 'client', 'dist');

/** Every file reachable from `entry` through relative requires, and every bare specifier required. */
function requireGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.endsWith('.js') ? specifier : `${specifier}.js`));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}

describe('nestjs-frago-client browser entry', () => {
  it('requires only hash-wasm outside its own files', () => {
    const { packages } = requireGraph(join(DIST, 'index.js'));
    assert.deepEqual([...packages], ['hash-wasm']);
  });

  it('uses no Node built-in module and no Buffer', () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const { files, packages } = requireGraph(join(DIST, 'index.js'));
    assert.deepEqual([...packages].filter((name) => builtins.has(name)), []);
    for (const file of files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.doesNotMatch(code, /\bBuffer\b|\bprocess\./, `${file} uses a Node global`);
    }
  });

  it('the Node entry adds the file-system source', () => {
    const { packages } = requireGraph(join(DIST, 'node.js'));
    assert.ok(packages.has('node:fs/promises'));
  });
});
