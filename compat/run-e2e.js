#!/usr/bin/env node
// Runs the e2e suite (test/e2e) with the library built from its sources against
// the previous majors pinned in compat/<line>/package.json, without touching the
// monorepo's own install:
//   1. npm ci in compat/<line> when its node_modules is missing or older than its lock;
//   2. tsc -p compat/<line>/tsconfig.json: libs/chunked-upload/src + test/e2e (and what
//      they import) into compat/<line>/dist, bare imports resolved from compat/<line>
//      first, then from the monorepo (packages that are the same on both lines);
//   3. node --test on the compiled specs (SQLite, plus TEST_POSTGRES_URL / TEST_MYSQL_URL).
// The compiled files live under compat/<line>/, so at run time Node's resolution finds
// that folder's @nestjs/* and typeorm before the monorepo's.
//
// Usage: node compat/run-e2e.js [--line nest11] [substring ...]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
let line = 'nest11';
const lineFlag = args.indexOf('--line');
if (lineFlag !== -1) {
  line = args[lineFlag + 1];
  args.splice(lineFlag, 2);
}
const dir = path.join(__dirname, line);
if (!fs.existsSync(path.join(dir, 'package.json'))) {
  console.error(`compat: no compat/${line}/package.json`);
  process.exit(2);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`compat: ${command} ${commandArgs.join(' ')} failed (${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

// 1. Install the previous majors (npm ci: exactly the committed lock), unless the install
//    already matches the lock (a stamp holds the lock's hash).
const lock = fs.readFileSync(path.join(dir, 'package-lock.json'));
const lockHash = require('node:crypto').createHash('sha256').update(lock).update(process.version).digest('hex');
const stamp = path.join(dir, 'node_modules', '.frago-compat-installed');
if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== lockHash) {
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  run(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund'], { cwd: dir });
  fs.writeFileSync(stamp, lockHash);
}

// 2. Build the library and the e2e suite against them.
const dist = path.join(dir, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', path.join(dir, 'tsconfig.json')], { cwd: root });
// `import … from 'nestjs-frago'` in the compiled specs finds this build of the sources.
fs.mkdirSync(path.join(dist, 'node_modules'), { recursive: true });
fs.symlinkSync(path.join('..', 'libs', 'chunked-upload', 'src'), path.join(dist, 'node_modules', 'nestjs-frago'), 'dir');
// Deep imports (`nestjs-frago/dist/services/…`, as a spec reaches a provider class) must find the same
// build: without this they fall through to the monorepo's own dist/, built against the current majors,
// whose classes are other DI tokens than the ones this build registers ("Nest could not find …").
fs.symlinkSync('.', path.join(dist, 'libs', 'chunked-upload', 'src', 'dist'), 'dir');

// 3. Say what runs on what, then run it.
// Which copy of `name` the compiled library loads (Node's lookup: nearest node_modules upwards).
const versionOf = (name) => {
  for (let folder = path.join(dist, 'libs', 'chunked-upload', 'src'); ; folder = path.dirname(folder)) {
    const file = path.join(folder, 'node_modules', name, 'package.json');
    if (fs.existsSync(file)) {
      const where = file.startsWith(dir) ? '' : ' (from the monorepo)';
      return `${name} ${JSON.parse(fs.readFileSync(file, 'utf8')).version}${where}`;
    }
    if (path.dirname(folder) === folder) return `${name} missing`;
  }
};
const versions = ['@nestjs/core', '@nestjs/platform-fastify', '@nestjs/typeorm', '@nestjs/event-emitter', 'typeorm', 'fastify'].map(versionOf);
const dbs = ['sqlite'];
if (process.env.TEST_POSTGRES_URL) dbs.push('postgres');
if (process.env.TEST_MYSQL_URL) dbs.push('mysql');

function findSpecs(folder) {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return findSpecs(full);
    return entry.name.endsWith('.spec.js') ? [full] : [];
  });
}
const specs = findSpecs(path.join(dist, 'test', 'e2e'))
  .filter((file) => args.length === 0 || args.some((filter) => file.includes(filter)))
  .sort();
if (specs.length === 0) {
  console.error('compat: no e2e spec matched');
  process.exit(1);
}
console.log(`compat/${line}: ${specs.length} e2e spec files on ${dbs.join(', ')} with Node ${process.versions.node}, ${versions.join(', ')}`);
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${process.env.TEST_CONCURRENCY || '3'}`, '--test-timeout=300000', ...specs],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
