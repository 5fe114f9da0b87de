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
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const TEMPLATE = join(REPO_ROOT, 'test', 'pack', 'app-template');
/**
 * How long one step (an `npm install`, a build, the upload) may take before its process group is
 * killed: generous, as installs on a loaded 2-core CI machine take many minutes; minutes in
 * FRAGO_PACK_STEP_TIMEOUT_MIN (default 45).
 */
const STEP_TIMEOUT_MIN = Number(process.env.FRAGO_PACK_STEP_TIMEOUT_MIN ?? '') || 45;
const STEP_TIMEOUT = STEP_TIMEOUT_MIN * 60_000;

/** The README's install lines for one section, marked `<!-- install:NAME -->` before a ```bash block. */
export function readmeInstallLines(readme: string, name: string): string[] {
  const marker = `<!-- install:${name} -->`;
  const at = readme.indexOf(marker);
  assert.notEqual(at, -1, `README.md has no ${marker} marker`);
  const block = /```(?:bash|sh)\n([\s\S]*?)```/.exec(readme.slice(at + marker.length));
  assert.ok(block, `README.md has no code block after ${marker}`);
  const lines = block[1].split('\n').filter((line) => line.trim().startsWith('npm '));
  assert.ok(lines.length > 0, `the block after ${marker} holds no npm command`);
  return lines;
}

interface Run {
  code: number | null;
  output: string;
}

/**
 * This process's environment without what `npm test` adds (npm_config_*, npm_package_*, …), which
 * would point npm at the monorepo; keeps npm_config_nodedir (the headers CI gives node-gyp).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) || key === 'npm_config_nodedir') env[key] = value;
  }
  delete env.INIT_CWD;
  return env;
}

/**
 * Runs `command` through sh (the README's lines are shell lines), output kept for the assertion
 * message. sh leads its own process group, so a step over its time kills npm and everything npm
 * started (node-gyp, install scripts), not just the shell above them.
 */
function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = STEP_TIMEOUT): Promise<Run> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (data: Buffer): void => {
      output = (output + data.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Whatever the group left behind (a daemonised grandchild) goes with it.
      killGroup(child.pid, 'SIGKILL');
      const note = timedOut ? `\n[killed: the step took over ${Math.round(timeoutMs / 60_000)} min (FRAGO_PACK_STEP_TIMEOUT_MIN)]` : '';
      done({ code, output: output + note });
    });
  });
}

/** Signals every process of the group `pid` leads; a group already gone is no error. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function shOk(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const run = await sh(command, cwd, env);
  assert.equal(run.code, 0, `\`${command}\` in ${cwd} exited ${run.code}:\n${run.output}`);
  return run.output;
}

interface Packed {
  name: string;
  version: string;
  file: string;
  manifest: Record<string, unknown>;
}

/** `npm pack` in a package folder (its prepack builds it); returns the tarball. */
async function pack(pkgDir: string, destination: string, env: NodeJS.ProcessEnv): Promise<Packed> {
  const output = await shOk(`npm pack --silent --pack-destination "${destination}"`, pkgDir, env);
  const fileName = output.trim().split('\n').pop() as string;
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  return { name: manifest.name as string, version: manifest.version as string, file: join(destination, fileName), manifest };
}

/**
 * A registry for npm: the packed tarballs under their own names, everything else
 * redirected to `upstream`.
 */
async function startRegistryShim(packages: Packed[], upstream: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const pkg of packages) {
      const tarballPath = `/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`;
      if (path === tarballPath) {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(readFileSync(pkg.file));
        return;
      }
      if (path === `/${pkg.name}`) {
        const bytes = readFileSync(pkg.file);
        const version = {
          ...pkg.manifest,
          _id: `${pkg.name}@${pkg.version}`,
          dist: {
            tarball: `${base}${tarballPath}`,
            shasum: createHash('sha1').update(bytes).digest('hex'),
            integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
          },
        };
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ name: pkg.name, 'dist-tags': { latest: pkg.version }, versions: { [pkg.version]: version } }));
        return;
      }
    }
    response.writeHead(302, { location: new URL(request.url ?? '/', upstream).toString() });
    response.end();
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Starts the built app; resolves with its URL once it prints it. */
function bootApp(node: string, appDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void>; output(): string }> {
  return new Promise((ready, failed) => {
    const child = spawn(node, ['dist/main.js'], { cwd: appDir, env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => failed(new Error(`the app did not start within 120 s:\n${output}`)), 120_000);
    const stop = (): Promise<void> =>
      new Promise((stopped) => {
        if (child.exitCode !== null) {
          stopped();
          return;
        }
        child.once('exit', () => stopped());
        child.kill('SIGTERM');
      });
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = /LISTENING (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        ready({ url: match[1].replace('[::1]', '127.0.0.1'), stop, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      failed(new Error(`the app exited (${code}) before listening:\n${output}`));
    });
  });
}

/** Whether process `pid` still exists (signal 0 probes without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('packed-package test steps', () => {
  it('a step over its time is killed with everything it started, and says so', { timeout: 30_000 }, async () => {
    // sh starts a long-lived node and waits on it, as `npm install` waits on node-gyp.
    const run = await sh(`"${process.execPath}" -e "setInterval(() => {}, 1000)" & echo "pid $!"; wait`, tmpdir(), process.env, 1500);
    assert.match(run.output, /\[killed: the step took over/);
    const pid = Number(/pid (\d+)/.exec(run.output)?.[1]);
    assert.ok(pid > 0, run.output);
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((next) => setImmediate(next));
    assert.equal(alive(pid), false, `the grandchild ${pid} outlived its step`);
  });
});

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
        const files = (await shOk(`tar tzf "${pkg.file}"`, work, process.env)).split('\n').filter(Boolean);
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
