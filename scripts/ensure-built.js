#!/usr/bin/env node
// Builds every TypeScript project (incremental: a no-op when dist/ is current).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const result = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('TypeScript build failed');
  process.exit(result.status ?? 1);
}
