/** The packages under test: packed tarballs, the registry shim that serves them, the README's install lines, and the booted app. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { shOk } from './steps';

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

export interface Packed {
  name: string;
  version: string;
  file: string;
  manifest: Record<string, unknown>;
}

/** `npm pack` in a package folder (its prepack builds it); returns the tarball. */
export async function pack(pkgDir: string, destination: string, env: NodeJS.ProcessEnv): Promise<Packed> {
  const output = await shOk(`npm pack --silent --pack-destination "${destination}"`, pkgDir, env);
  const fileName = output.trim().split('\n').pop() as string;
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  return { name: manifest.name as string, version: manifest.version as string, file: join(destination, fileName), manifest };
}

/**
 * A registry for npm: the packed tarballs under their own names, everything else
 * redirected to `upstream`.
 */
export async function startRegistryShim(packages: Packed[], upstream: string): Promise<{ server: Server; url: string }> {
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
export function bootApp(node: string, appDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void>; output(): string }> {
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
