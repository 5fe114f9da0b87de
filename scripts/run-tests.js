#!/usr/bin/env node
// Builds, then runs every compiled *.spec.js under test/dist with node's test runner.
// Usage: npm test [-- substring ...]   (only spec files whose path contains a substring)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
require('./ensure-built.js');

function findSpecs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findSpecs(full);
    return entry.name.endsWith('.spec.js') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const specs = findSpecs(path.join(root, 'test', 'dist'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (specs.length === 0) {
  console.error('No test files found');
  process.exit(1);
}
const dbs = ['sqlite'];
if (process.env.TEST_POSTGRES_URL) dbs.push('postgres');
if (process.env.TEST_MYSQL_URL) dbs.push('mysql');
console.log(`Running ${specs.length} spec files on: ${dbs.join(', ')}`);
const concurrency = process.env.TEST_CONCURRENCY || '3';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...specs],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
