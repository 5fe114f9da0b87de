#!/usr/bin/env node
// Builds every TypeScript project (incremental: a no-op when dist/ is current),
// then bundles the example app's demo page when its sources changed.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const result = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('TypeScript build failed');
  process.exit(result.status ?? 1);
}

// The demo page's browser code (apps/example/browser) and the client it imports
// (libs/client/src, from source) bundled by esbuild into public/assets/demo.js.
const browserDir = path.join(root, 'apps', 'example', 'browser');
const demoBundle = path.join(root, 'apps', 'example', 'public', 'assets', 'demo.js');

/** Newest modification time of any file under `dir`, in ms. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function demoIsStale() {
  if (!fs.existsSync(demoBundle)) return true;
  const built = fs.statSync(demoBundle).mtimeMs;
  return [browserDir, path.join(root, 'libs', 'client', 'src')].some((dir) => newestMtime(dir) > built);
}

if (demoIsStale()) {
  const tsconfig = path.join(browserDir, 'tsconfig.json');
  const check = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, stdio: 'inherit' });
  if (check.status !== 0) {
    console.error('Demo page type check failed (apps/example/browser)');
    process.exit(check.status ?? 1);
  }
  try {
    // Synchronous on purpose: scripts/run-tests.js requires this file and continues right after.
    require('esbuild').buildSync({
      absWorkingDir: root,
      entryPoints: [path.join(browserDir, 'demo.ts')],
      outfile: demoBundle,
      tsconfig, // its `paths` point nestjs-frago-client at libs/client/src
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      sourcemap: false,
      legalComments: 'inline',
      logLevel: 'warning',
    });
  } catch (error) {
    console.error(`Demo page bundle failed: ${error.message}`);
    process.exit(1);
  }
}
