/**
 * Smoke test of `npm run bench`: the quick benchmark of scenarios (b), (d) and (f) runs to
 * completion against the built example app, the baseline and @tus/server, and prints its
 * table with a ratio column and the targets; with `--ablate`, also the app with fsync off.
 * No timing assertion: figures on a shared machine are not a test verdict.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = resolve(__dirname, '..', '..');
const BENCH = join(ROOT, 'bench', 'dist', 'bench.js');
// A guard against a hung bench, not a speed check: the quick run was seen taking over 4 minutes
// beside two other spec files under c8 on a loaded 2-core machine (Node 26, load average 12-15).
const TIMEOUT_MS = 600_000;

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    // Not measured for coverage (the bench's servers run the same library code as the other suites, only slower).
    const { NODE_V8_COVERAGE: _coverage, ...env } = process.env;
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

test('npm run bench -- --quick --ablate --scenario b,d,f prints the table with ratios', { timeout: TIMEOUT_MS + 30_000 }, async () => {
  assert.ok(existsSync(BENCH), `${BENCH} is missing: build with npx tsc -b bench`);
  const { code, stdout, stderr } = await runBench(['--quick', '--ablate', '--scenario', 'b,d,f']);
  assert.equal(code, 0, `bench exited with ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr.slice(-4000)}`);
  const lines = stdout.split('\n');
  const header = lines.find((l) => /\bmetric\b/.test(l) && /\bagainst\b/.test(l));
  assert.ok(header !== undefined, `no table header in:\n${stdout}`);
  assert.match(header, /\bratio\b/);
  assert.match(header, /\btarget\b/);
  assert.ok(
    lines.some((l) => l.startsWith('(b) ')),
    `no row for scenario (b) in:\n${stdout}`,
  );
  assert.ok(
    lines.some((l) => l.startsWith('(d) ')),
    `no row for scenario (d) in:\n${stdout}`,
  );
  assert.ok(
    lines.some((l) => /chunks\/s/.test(l)),
    'no chunks/s figure for scenario (d)',
  );
  // (f) is measured against the baseline and against @tus/server, started by the bench and driven by tus-js-client.
  assert.ok(
    lines.some((l) => /chunks\/s/.test(l) && /@tus\/server tus ×1/.test(l)),
    `no @tus/server figure in:\n${stdout}`,
  );
  assert.ok(
    lines.some((l) => /\bbaseline\b/.test(l) && /\d\.\d\d×/.test(l)),
    `no ratio against the baseline in:\n${stdout}`,
  );
  // --ablate: the app with fsync off beside the app, on (b)'s end-to-end figure and (d)'s chunk rate.
  assert.ok(
    lines.some((l) => /end-to-end MB\/s/.test(l) && /app fsync off raw ×4/.test(l)),
    `no fsync-off figure for scenario (b) in:\n${stdout}`,
  );
  assert.ok(
    lines.some((l) => /chunks\/s/.test(l) && /baseline\+fsync multipart ×8/.test(l)),
    `no flushing baseline in scenario (d) in:\n${stdout}`,
  );
  assert.match(stdout, /^targets: /m, 'no targets summary line');
  // Every measured figure row has a ratio such as "0.93×".
  const ratios = lines.filter((l) => /\d\.\d\d×/.test(l));
  assert.ok(ratios.length >= 6, `expected ratio figures in:\n${stdout}`);
});
