/**
 * The published packages as a new user gets them: `npm pack` of libs/chunked-upload
 * and libs/client, a fresh NestJS 12 app and a fresh NestJS 11 app (what `nest new`
 * scaffolds, from test/pack/app-template) in a temp folder outside the monorepo, the
 * README's install lines for that major run verbatim (read from README.md here, so the
 * README cannot drift), the README's quick start compiled by the app's own TypeScript,
 * booted on SQLite, and a file uploaded with the packed CLI (`frago-upload`); the
 * published file must equal the source byte for byte.
 *
 * The README's lines say `npm install nestjs-frago …`: npm runs them against a registry
 * shim on 127.0.0.1 that serves the two packed tarballs under their names and redirects
 * every other request to the real registry (the only network this test uses).
 *
 * Needs the npm registry and a few minutes, so it runs when FRAGO_PACK_TEST=1 (.ci/run sets
 * it); otherwise it says it was skipped, and with CI=true a skip is a failure.
 * FRAGO_COMPAT_NODE: a node binary for the NestJS 11 app (CI: Node 20 beside Node 26).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootApp, pack, readmeInstallLines, startRegistryShim, type Packed } from './support/packages';
import { cleanEnv, sh, shOk, STEP_TIMEOUT, STEP_TIMEOUT_MIN } from './support/steps';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const TEMPLATE = join(REPO_ROOT, 'test', 'pack', 'app-template');

const enabled = process.env.FRAGO_PACK_TEST === '1';
const SKIP_MESSAGE =
  'packed-package test SKIPPED: it installs from the npm registry and takes minutes; run it with FRAGO_PACK_TEST=1 npm test -- pack/ (.ci/run does)';

if (!enabled) {
  describe('packed packages in fresh NestJS apps', () => {
    it('runs only with FRAGO_PACK_TEST=1', (t) => {
      if (process.env.CI === 'true') assert.fail(`${SKIP_MESSAGE}; CI=true makes this skip a failure`);
      console.log(`\n*** ${SKIP_MESSAGE} ***\n`);
      t.skip(SKIP_MESSAGE);
    });
  });
} else {
  // Timeouts nest: a step's own (its process group killed) well inside its test's.
  describe('packed packages in fresh NestJS apps', { timeout: 10 * STEP_TIMEOUT }, () => {
    console.log(`# packed-package test: each step (npm install, build, upload) is killed after ${STEP_TIMEOUT_MIN} min (FRAGO_PACK_STEP_TIMEOUT_MIN)`);
    const work = mkdtempSync(join(tmpdir(), 'frago-pack-'));
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    let shim: { server: Server; url: string };
    let packages: Packed[] = [];

    before(
      async () => {
        const tarballs = join(work, 'tarballs');
        mkdirSync(tarballs);
        const upstream = (await shOk('npm config get registry', work, cleanEnv())).trim();
        packages = [
          await pack(join(REPO_ROOT, 'libs', 'chunked-upload'), tarballs, cleanEnv()),
          await pack(join(REPO_ROOT, 'libs', 'client'), tarballs, cleanEnv()),
        ];
        shim = await startRegistryShim(packages, upstream.endsWith('/') ? upstream : `${upstream}/`);
      },
      { timeout: 3 * STEP_TIMEOUT },
    );

    after(async () => {
      await new Promise((closed) => shim?.server.close(closed));
      rmSync(work, { recursive: true, force: true });
    });

    it('ships compiled JS, typings, README and LICENSE, and no build artefact', async () => {
      for (const pkg of packages) {
        // The whole listing (sh() keeps only the tail of a step's output, for messages).
        const files = execFileSync('tar', ['tzf', pkg.file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
          .split('\n')
          .filter(Boolean);
        for (const required of ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']) {
          assert.ok(files.includes(required), `${pkg.name} lacks ${required}`);
        }
        assert.deepEqual(
          files.filter((file) => /tsbuildinfo|\.spec\./.test(file)),
          [],
          `${pkg.name} ships build or test files`,
        );
        for (const map of files.filter((file) => file.endsWith('.js.map'))) {
          const source = map.replace(/^package\/dist\//, 'package/src/').replace(/\.js\.map$/, '.ts');
          assert.ok(files.includes(source), `${pkg.name}: ${map} points at ${source}, which is not shipped`);
        }
      }
    });

    for (const major of ['nest12', 'nest11'] as const) {
      it(
        `a fresh ${major === 'nest12' ? 'NestJS 12' : 'NestJS 11'} app installs them with the README's lines, boots on SQLite and takes an upload from frago-upload`,
        { timeout: STEP_TIMEOUT * 4 },
        async () => {
          const node = major === 'nest11' && process.env.FRAGO_COMPAT_NODE ? process.env.FRAGO_COMPAT_NODE : process.execPath;
          const env: NodeJS.ProcessEnv = {
            ...cleanEnv(),
            PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
            npm_config_registry: shim.url,
            npm_config_audit: 'false',
            npm_config_fund: 'false',
            npm_config_update_notifier: 'false',
          };
          // A node that is not the one CI gave headers for builds native modules with its own.
          if (node !== process.execPath) delete env.npm_config_nodedir;
          const appDir = join(work, major);
          mkdirSync(appDir);
          copyFileSync(join(TEMPLATE, `package.${major}.json`), join(appDir, 'package.json'));
          copyFileSync(join(TEMPLATE, 'tsconfig.json'), join(appDir, 'tsconfig.json'));
          cpSync(join(TEMPLATE, 'src'), join(appDir, 'src'), { recursive: true });

          await shOk('npm install', appDir, env); // what `nest new` leaves installed
          const lines = [...readmeInstallLines(readme, major), ...readmeInstallLines(readme, 'client')];
          for (const line of lines) await shOk(line, appDir, env);
          const installed = (name: string): string =>
            (JSON.parse(readFileSync(join(appDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
          const expectedMajor = major === 'nest12' ? '12' : '11';
          assert.equal(installed('@nestjs/core').split('.')[0], expectedMajor);
          assert.equal(installed('typeorm').split('.')[0], major === 'nest12' ? '1' : '0');
          assert.equal(installed('nestjs-frago'), packages[0].version);
          console.log(
            `# ${major} on Node ${(await shOk(`"${node}" -v`, appDir, env)).trim()}: @nestjs/core ${installed('@nestjs/core')}, typeorm ${installed('typeorm')}, ` +
              `@nestjs/typeorm ${installed('@nestjs/typeorm')}, @nestjs/event-emitter ${installed('@nestjs/event-emitter')}, fastify ${installed('fastify')}`,
          );

          await shOk(`"${node}" node_modules/typescript/bin/tsc -p tsconfig.json`, appDir, env);
          const dataDir = join(appDir, 'data');
          const app = await bootApp(node, appDir, { ...env, DATA_DIR: dataDir });
          try {
            const source = join(work, `${major}-upload.bin`);
            const bytes = randomBytes(3 * 1024 * 1024 + 123);
            writeFileSync(source, bytes);
            const cli = join(appDir, 'node_modules', '.bin', 'frago-upload');
            assert.ok(existsSync(cli), 'the client package links its frago-upload bin');
            const upload = await sh(`"${cli}" "${source}" --url ${app.url} --chunk-size 1M --parallel 3 --algo sha256 --no-state`, appDir, env, 120_000);
            assert.equal(upload.code, 0, `frago-upload exited ${upload.code}:\n${upload.output}\napp:\n${app.output()}`);
            const published = readdirSync(join(dataDir, 'uploads'));
            assert.deepEqual(published, [`${major}-upload.bin`]);
            const stored = readFileSync(join(dataDir, 'uploads', published[0]));
            assert.equal(stored.length, bytes.length);
            assert.ok(stored.equals(bytes), 'the published file equals the source byte for byte');
          } finally {
            await app.stop();
          }
        },
      );
    }
  });
}
