/**
 * The `frago-upload` CLI as a child process against the example app: a run
 * that succeeds, a run killed mid-way and resumed from its state file, and
 * runs against wrong URLs that fail with exit code 1 and one line on stderr.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { unusedPort } from '../helpers/app-process';
import { ClientRig } from './support/client-rig';
import { uniqueName } from './support/files';
import { runCli } from './support/run-cli';

/** Whether a path exists. */
const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

describe('frago-upload CLI', { timeout: 120_000 }, () => {
  const rig = new ClientRig();

  it('uploads a file, exits 0, prints the confirmed checksum and leaves no state file', async () => {
    const name = uniqueName('cli-ok');
    const { path, bytes } = await rig.files.create(name, 1024 * 1024 + 3);
    const run = await runCli([path, '--url', rig.app.apiUrl, '--chunk-size', '128K', '--parallel', '3']).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /md5 [0-9a-f]{32} confirmed by the server/);
    assert.match(run.stderr, /100\.0%/, 'plain progress lines when stderr is not a TTY');
    assert.doesNotMatch(run.stderr, /\r/, 'no carriage returns outside a TTY');
    assert.equal(await exists(`${path}.frago-upload.json`), false);
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
  });

  it('resumes from its state file after being killed with SIGKILL, sending only what is missing', async () => {
    const name = uniqueName('cli-kill');
    const size = 3 * 1024 * 1024 + 11;
    const chunk = 64 * 1024;
    const totalChunks = Math.ceil(size / chunk);
    const { path, bytes } = await rig.files.create(name, size);
    let puts = 0;
    let killAt = Infinity;
    let first: ReturnType<typeof runCli> | undefined;
    const proxy = await rig.startProxy({}, (method, status) => {
      if (method !== 'PUT' || status !== 200) return;
      puts++;
      if (puts >= killAt) first?.child.kill('SIGKILL');
    });
    const args = [path, '--url', proxy.apiUrl, '--chunk-size', '64K', '--parallel', '1'];

    killAt = 5;
    first = runCli(args);
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const state = JSON.parse(await readFile(`${path}.frago-upload.json`, 'utf8')) as { uploadId: string; size: number };
    assert.equal(state.size, size);

    killAt = Infinity;
    const putsBefore = puts;
    const resumed = await runCli(args).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resumed with .* already on the server; upload_id ${state.uploadId}`));
    const resent = puts - putsBefore;
    assert.ok(resent < totalChunks && resent >= totalChunks - putsBefore, `second run sent ${resent} of ${totalChunks} chunks`);
    assert.equal(await exists(`${path}.frago-upload.json`), false, 'state file removed on success');
    assert.deepEqual(await rig.app.readAssembled(name), bytes);
  });

  it('fails with exit code 1 and one line on stderr when nothing listens at the URL', async () => {
    const { path } = await rig.files.create(uniqueName('cli-refused'), 1000);
    const port = await unusedPort();
    const run = await runCli([path, '--url', `http://127.0.0.1:${port}/api`, '--retries', '1']).done;
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^frago-upload: error: Could not reach http:\/\/127\.0\.0\.1:\d+\/api\/upload\/: .*ECONNREFUSED/);
    assert.equal(await exists(`${path}.frago-upload.json`), false);
  });

  it('fails with exit code 1 and one line naming the status when the URL is not the API', async () => {
    const { path } = await rig.files.create(uniqueName('cli-404'), 1000);
    const run = await runCli([path, '--url', `http://127.0.0.1:${rig.app.port}/not-the-api`]).done;
    assert.equal(run.code, 1);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^frago-upload: error: HTTP 404\b/);
  });
});
