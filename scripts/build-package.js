#!/usr/bin/env node
// Builds one publishable package of libs/ (its `prepack` script, so `npm pack` and
// `npm publish` in libs/<package> always ship a fresh build):
//   - `tsc -b` of the package (incremental: a no-op when dist/ is current, so it is safe
//     while other processes use dist/);
//   - removes outputs in dist/ whose source in src/ is gone (tsc never deletes them);
//   - removes build artefacts (.tsbuildinfo) from dist/ and checks that every source map
//     points at a file the package ships (the sources are shipped in src/);
//   - with --readme FILE, copies FILE to the package's README.md (git-ignored copy).
// Usage (from a package folder): node ../../scripts/build-package.js [--readme ../../README.md]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkgDir = process.cwd();
const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const fail = (message) => {
  console.error(`build-package (${manifest.name}): ${message}`);
  process.exit(1);
};

const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const built = spawnSync(process.execPath, [tsc, '-b', path.join(pkgDir, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) fail('TypeScript build failed');

const src = path.join(pkgDir, 'src');
const dist = path.join(pkgDir, 'dist');
const OUTPUT = /(\.d\.ts|\.js\.map|\.js)$/;

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

for (const file of walk(dist)) {
  const relative = path.relative(dist, file);
  if (relative.endsWith('.tsbuildinfo')) {
    // tsBuildInfoFile lives next to tsconfig.json; one in dist/ is left over from an older layout.
    fs.rmSync(file);
    continue;
  }
  const match = OUTPUT.exec(relative);
  if (!match) continue;
  const source = path.join(src, relative.slice(0, -match[1].length) + '.ts');
  if (!fs.existsSync(source)) {
    fs.rmSync(file);
    console.log(`build-package: removed stale dist/${relative}`);
    continue;
  }
  if (match[1] === '.js.map') {
    const map = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const mapped of map.sources) {
      if (!fs.existsSync(path.resolve(path.dirname(file), map.sourceRoot ?? '', mapped))) fail(`${relative} points at ${mapped}, which is not there`);
    }
  }
}
const shipped = manifest.files ?? [];
if (walk(dist).some((file) => file.endsWith('.js.map')) && !shipped.includes('src')) {
  fail('dist/ has source maps but "files" does not ship src/: ship the sources or build without maps');
}

const readmeFlag = process.argv.indexOf('--readme');
if (readmeFlag !== -1) {
  fs.copyFileSync(path.resolve(pkgDir, process.argv[readmeFlag + 1]), path.join(pkgDir, 'README.md'));
}
for (const required of ['README.md', 'LICENSE']) {
  if (!fs.existsSync(path.join(pkgDir, required))) fail(`${required} is missing`);
}
console.log(`build-package: ${manifest.name}@${manifest.version} built`);
