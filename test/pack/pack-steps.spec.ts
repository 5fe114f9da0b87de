/** The packed-package test's own harness: a step over its time is killed with all it started. */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { alive, sh } from './support/steps';

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
