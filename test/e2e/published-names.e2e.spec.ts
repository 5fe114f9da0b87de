import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestApp, withTestApp } from '../helpers/create-test-app';
import { databaseKinds } from '../helpers/test-databases';
import { digest, finalize, putChunk, startOk, testBytes } from '../helpers/upload-client';

for (const kind of databaseKinds()) {
  describe(`published names on ${kind}`, () => {
    let t: TestApp;

    withTestApp(kind, {}, (app) => {
      t = app;
    });

    async function upload(filename: string, data: Buffer): Promise<string> {
      const id = await startOk(t.uploadUrl, filename, data.length);
      assert.equal((await putChunk(t.uploadUrl, id, data, 0, data.length)).status, 200);
      const done = await finalize(t.uploadUrl, id, { checksum: digest(data) });
      assert.equal(done.status, 201, JSON.stringify(done.body));
      return id;
    }

    it('names never run out: after 1000 files named dump.bin, dump-1.bin … dump-999.bin, the next dump.bin completes under a name carrying its upload id', async () => {
      for (let n = 0; n < 1000; n++) writeFileSync(join(t.assembledDir, n === 0 ? 'dump.bin' : `dump-${n}.bin`), `planted ${n}`);
      const data = testBytes(5000, 91);
      const id = await upload('dump.bin', data);
      assert.deepEqual(readFileSync(join(t.assembledDir, `dump-${id}.bin`)), data);
      assert.equal(readFileSync(join(t.assembledDir, 'dump-999.bin'), 'utf8'), 'planted 999', 'no planted file overwritten');
    });

    it('uploads sharing one name get distinct files, numbered first, then named after their upload id', async () => {
      const sources = Array.from({ length: 12 }, (_, i) => testBytes(3000 + i, 100 + i));
      const ids: string[] = [];
      for (const data of sources) ids.push(await upload('fleet.bin', data));
      const expected = ['fleet.bin', ...Array.from({ length: 9 }, (_, n) => `fleet-${n + 1}.bin`), `fleet-${ids[10]}.bin`, `fleet-${ids[11]}.bin`];
      for (const [i, name] of expected.entries()) assert.deepEqual(readFileSync(join(t.assembledDir, name)), sources[i], name);
    });
  });
}
