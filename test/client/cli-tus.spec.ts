/**
 * `frago-upload --protocol tus` as a child process against the real example
 * app (tus at /api/files/): sequential, parallel (partial uploads
 * the server concatenates), resumed from the state file after SIGKILL, and
 * frago-only options refused. frago stays the default (test/client/cli.spec).
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ClientRig } from './support/client-rig';
import { uniqueName } from './support/files';
import { runCli } from './support/run-cli';
import { UPLOAD_ID_SOURCE } from 'nestjs-frago/dist/protocol/upload-id';

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );
const KiB = 1024;

describe('frago-upload --protocol tus', { timeout: 120_000 }, () => {
  const rig = new ClientRig();

  /** The upload's state in the ledger, through the frago API. */
  async function ledgerStatus(id: string): Promise<{ status: string; total_size: number }> {
    const answer = await fetch(`${rig.app.apiUrl}/upload/${id}/`);
    assert.equal(answer.status, 200);
    return (await answer.json()) as { status: string; total_size: number };
  }

  it('uploads sequentially through tus, exits 0, names the tus URL and leaves no state file', async () => {
    const name = uniqueName('cli-tus-seq');
    const { path, bytes } = await rig.files.create(name, 1024 * KiB + 7);
    const run = await runCli([path, '--url', rig.app.apiUrl, '--protocol', 'tus', '--chunk-size', '128K', '--parallel', '1']).done;
    assert.equal(run.code, 0, run.stderr);
    const match = new RegExp(`upload_id (${UPLOAD_ID_SOURCE}); stored through tus at (\\S+)\n$`).exec(run.stdout);
    assert.ok(match, run.stdout);
    assert.equal(match[2], `${rig.app.apiUrl}/files/${match[1]}`);
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
    const status = await ledgerStatus(match[1]);
    assert.equal(status.status, 'complete');
    assert.equal(status.total_size, bytes.length);
    assert.equal(await exists(`${path}.frago-upload.json`), false);
  });

  it('uploads with --parallel 4 as four partial uploads the server concatenates', async () => {
    const name = uniqueName('cli-tus-par');
    const { path, bytes } = await rig.files.create(name, 3 * 1024 * KiB + 5);
    const creations: string[] = [];
    const proxy = await rig.startProxy({}, (method, status) => {
      if (method === 'POST') creations.push(String(status));
    });
    const run = await runCli([path, '--url', proxy.apiUrl, '--protocol', 'tus', '--chunk-size', '256K', '--parallel', '4']).done;
    await rig.closeProxy();
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /from 4 partial uploads concatenated by the server\n$/);
    assert.deepEqual(creations, ['201', '201', '201', '201', '201'], 'four partial uploads and one final');
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
    const id = new RegExp(`upload_id (${UPLOAD_ID_SOURCE})`).exec(run.stdout)![1];
    assert.equal((await ledgerStatus(id)).status, 'complete');
  });

  it('resumes from its state file after being killed with SIGKILL, sending only what is missing', async () => {
    const name = uniqueName('cli-tus-kill');
    const size = 2 * 1024 * KiB + 13;
    const chunk = 64 * KiB;
    const totalPatches = Math.ceil(size / chunk);
    const { path, bytes } = await rig.files.create(name, size);
    let patches = 0;
    let killAt = Infinity;
    let first: ReturnType<typeof runCli> | undefined;
    const proxy = await rig.startProxy({}, (method, status) => {
      if (method !== 'PATCH' || status !== 204) return;
      patches++;
      if (patches >= killAt) first?.child.kill('SIGKILL');
    });
    const args = [path, '--url', proxy.apiUrl, '--protocol', 'tus', '--chunk-size', '64K', '--parallel', '1'];

    killAt = 5;
    first = runCli(args);
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const state = JSON.parse(await readFile(`${path}.frago-upload.json`, 'utf8')) as { uploadId: string; url: string; size: number };
    assert.equal(state.size, size);
    assert.equal(state.url, `${proxy.apiUrl}/files`, 'the state names the tus endpoint');

    killAt = Infinity;
    const before = patches;
    const resumed = await runCli(args).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resumed with .* already on the server; upload_id ${state.uploadId}; stored through tus`));
    const resent = patches - before;
    assert.ok(resent < totalPatches && resent >= totalPatches - before, `second run sent ${resent} of ${totalPatches} PATCHes`);
    assert.equal(await exists(`${path}.frago-upload.json`), false, 'state file removed on success');
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
  });

  it('refuses frago-only options and an unknown protocol with exit code 1 and a usage line', async () => {
    const { path } = await rig.files.create(uniqueName('cli-tus-usage'), 100);
    for (const [extra, message] of [
      [['--protocol', 'tus', '--algo', 'sha256'], /--algo applies to the frago protocol only/],
      [['--protocol', 'tus', '--digest'], /--digest applies to the frago protocol only/],
      [['--protocol', 'ftp'], /--protocol must be frago or tus, got "ftp"/],
      [['--tus-path', 'files'], /--tus-path applies to --protocol tus only/],
    ] as const) {
      const run = await runCli([path, '--url', rig.app.apiUrl, ...extra]).done;
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, message);
    }
  });
});
