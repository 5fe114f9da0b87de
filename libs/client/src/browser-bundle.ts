/**
 * Node-only helper for hosts that serve the client to browsers without a
 * bundler (like the example app's demo page): stitches the compiled browser
 * entry and the MD5/SHA-256 builds of hash-wasm into one classic script that
 * defines `globalThis.FragoClient` (the exports of the main entry).
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

const REQUIRE = /require\("([^"]+)"\)/g;
const SOURCE_MAP = /^\/\/# sourceMappingURL=.*$/gm;

/** The two hash-wasm builds the client needs (~30 KB instead of the full ~220 KB bundle). */
const HASH_WASM_PARTS: Record<string, string> = {
  'hash-wasm/md5': 'hash-wasm/dist/md5.umd.min.js',
  'hash-wasm/sha256': 'hash-wasm/dist/sha256.umd.min.js',
};

/** Reads every compiled module reachable from `index` through relative requires, keyed by id (`upload`, …). */
async function collectModules(distDir: string): Promise<Map<string, string>> {
  const modules = new Map<string, string>();
  const queue = ['index'];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (modules.has(id)) continue;
    const code = (await readFile(posix.join(distDir, `${id}.js`), 'utf8')).replace(SOURCE_MAP, '');
    modules.set(id, code);
    for (const [, specifier] of code.matchAll(REQUIRE)) {
      if (specifier.startsWith('.')) queue.push(posix.join(posix.dirname(id), specifier).replace(/\.js$/, ''));
      else if (specifier !== 'hash-wasm') throw new Error(`The browser entry requires "${specifier}", which cannot be bundled`);
    }
  }
  modules.set('hash-wasm', 'module.exports = Object.assign({}, require("hash-wasm/md5"), require("hash-wasm/sha256"));');
  for (const [id, path] of Object.entries(HASH_WASM_PARTS)) modules.set(id, await readFile(require.resolve(path), 'utf8'));
  return modules;
}

/** The tiny CommonJS loader the modules run under. */
const LOADER = `
  var cache = {};
  function resolve(from, spec) {
    if (spec.charAt(0) !== '.') return spec;
    var parts = from.split('/');
    parts.pop();
    spec.replace(/\\.js$/, '').split('/').forEach(function (part) {
      if (part === '..') parts.pop();
      else if (part !== '.') parts.push(part);
    });
    return parts.join('/');
  }
  function load(id) {
    if (cache[id]) return cache[id].exports;
    var define = modules[id];
    if (!define) throw new Error('FragoClient bundle: no module ' + id);
    var module = (cache[id] = { exports: {} });
    define.call(module.exports, module, module.exports, function (spec) { return load(resolve(id, spec)); });
    return module.exports;
  }`;

/**
 * Builds the browser script from the compiled client (call once and cache the
 * result). Load it with `<script src>`; then `FragoClient.upload(file, {...})`.
 */
export async function browserBundle(distDir: string = __dirname): Promise<string> {
  const modules = await collectModules(distDir);
  const definitions = [...modules]
    .map(([id, code]) => `  ${JSON.stringify(id)}: function (module, exports, require) {\n${code}\n  }`)
    .join(',\n');
  return [
    '/*! nestjs-frago-client browser bundle; includes hash-wasm (c) Dani Biro, MIT */',
    '(function (root) {',
    `  var modules = {\n${definitions}\n  };`,
    LOADER,
    '  root.FragoClient = load("index");',
    "})(typeof globalThis !== 'undefined' ? globalThis : self);",
    '',
  ].join('\n');
}
