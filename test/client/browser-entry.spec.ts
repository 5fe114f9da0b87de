/**
 * The browser entry of nestjs-frago-client (dist/index.js and everything it
 * requires) must load nothing Node-only: no `node:` modules, no fs/crypto/…,
 * no `Buffer`. The Node entry (dist/node.js) is the one place for those.
 * esbuild bundles it into one classic script (as a host without a bundler
 * of its own would) that uploads from a context holding only browser globals.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import { buildSync } from 'esbuild';
import type { UploadOptions, UploadResult } from 'nestjs-frago-client';
import { REPO_ROOT, startExampleApp, type ExampleApp } from './support/example-app';
import { uniqueName } from './support/files';

const DIST = join(REPO_ROOT, 'libs', 'client', 'dist');

/** The compiled browser entry and hash-wasm as one classic script defining `globalThis.FragoClient`. */
function classicScript(): string {
  const { outputFiles } = buildSync({
    entryPoints: [join(DIST, 'index.js')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'FragoClient',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'warning',
  });
  return outputFiles[0].text;
}

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
    assert.deepEqual(
      [...packages].filter((name) => builtins.has(name)),
      [],
    );
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

describe('nestjs-frago-client browser bundle', { timeout: 90_000 }, () => {
  let app: ExampleApp;
  before(async () => {
    app = await startExampleApp();
  });
  after(async () => {
    await app?.stop();
  });

  it('uploads a Blob from a context with only browser globals (no require, process or Buffer)', async () => {
    const browserGlobals = {
      fetch,
      Blob,
      Headers,
      Response,
      AbortController,
      AbortSignal,
      btoa,
      atob,
      setTimeout,
      clearTimeout,
      WebAssembly,
      TextEncoder,
      TextDecoder,
      console,
    };
    const context = createContext({ ...browserGlobals });
    runInContext(classicScript(), context, { filename: 'frago-client.js' });
    const client = (context as { FragoClient?: { upload(file: Blob, options: UploadOptions): Promise<UploadResult> } }).FragoClient;
    assert.ok(client, 'the bundle defines globalThis.FragoClient');
    assert.equal('require' in context || 'process' in context || 'Buffer' in context, false);

    const name = uniqueName('bundle');
    const bytes = randomBytes(2 * 1024 * 1024 + 9);
    const result = await client.upload(new Blob([new Uint8Array(bytes)]), {
      url: app.apiUrl,
      filename: name,
      chunkSize: 300_001,
      parallel: 3,
      checksum: 'sha256',
      chunkDigest: true,
    });
    assert.equal(result.checksum, createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(await app.readAssembled(name), bytes);
  });
});
