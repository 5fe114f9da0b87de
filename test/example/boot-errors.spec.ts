import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT } from '../client/support/example-app';

/** Runs the example app until it exits; returns its exit code and output. */
async function runApp(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'frago-boot-'));
  try {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/example/dist/main.js')], {
      cwd: dataDir,
      env: { PATH: process.env.PATH ?? '', FRAGO_DATA_DIR: dataDir, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('the example app tells a failed start in one line', () => {
  it('a bad environment variable: exit 1, one line naming it, no stack trace', async () => {
    const { code, stdout, stderr } = await runApp({ FRAGO_MAX_CHUNK_SIZE: 'ten' });
    assert.equal(code, 1);
    assert.deepEqual(lines(stdout), []);
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, /^Failed to start: Invalid environment variable FRAGO_MAX_CHUNK_SIZE="ten"/);
  });

  const servers: Array<[string, string | undefined]> = [
    ['PostgreSQL', process.env.TEST_POSTGRES_URL],
    ['MariaDB', process.env.TEST_MYSQL_URL],
  ];
  for (const [name, server] of servers) {
    if (!server) continue;
    it(`a ${name} database that does not exist: exit 1 at once, one line saying to create it, no retries, no stack trace`, async () => {
      const url = new URL(server);
      url.pathname = `/frago_missing_${randomBytes(4).toString('hex')}`;
      const { code, stdout, stderr } = await runApp({ DATABASE_URL: url.toString() });
      assert.equal(code, 1);
      assert.deepEqual(lines(stdout), []);
      assert.equal(lines(stderr).length, 1, stderr);
      assert.match(stderr, /^Failed to start: .*frago_missing_/);
      assert.match(stderr, /Create it first .*CREATE DATABASE/);
      assert.doesNotMatch(stderr, /Retrying|\n\s+at /);
    });
  }
});
