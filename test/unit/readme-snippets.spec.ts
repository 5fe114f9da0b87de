import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** The README's TypeScript blocks whose first line names a file of the repository: `// test/fixtures/…` or `// apps/example/src/…`. */
function fileBlocks(): Array<{ path: string; body: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks: Array<{ path: string; body: string }> = [];
  for (const match of readme.matchAll(/```ts\n\/\/ ((?:test\/fixtures|apps\/example\/src)\/[^\n]+\.ts)\n([\s\S]*?)```/g)) {
    blocks.push({ path: match[1], body: match[2] });
  }
  return blocks;
}

describe('README examples are the tested fixtures', () => {
  const blocks = fileBlocks();

  it("shows the whole device example (entity, upload entity, strategy, migration, registration, the host's typed service), the example app's health, metrics and OpenAPI controllers, and the Uppy example", () => {
    assert.deepEqual(
      blocks.map((block) => block.path).sort(),
      [
        'apps/example/src/health/health.controller.ts',
        'apps/example/src/metrics/metrics.controller.ts',
        'apps/example/src/openapi/openapi.controller.ts',
        'test/fixtures/device/device-identifier.strategy.ts',
        'test/fixtures/device/device-registration.ts',
        'test/fixtures/device/device-upload.entity.ts',
        'test/fixtures/device/device.entity.ts',
        'test/fixtures/device/device-uploads.service.ts',
        'test/fixtures/device/device.migration.ts',
        'test/fixtures/uppy/uppy-tus.ts',
      ].sort(),
    );
  });

  for (const block of blocks) {
    it(`the README block of ${block.path} is that file, unchanged`, () => {
      const file = join(ROOT, block.path);
      assert.ok(existsSync(file), `${block.path} does not exist`);
      assert.equal(block.body, readFileSync(file, 'utf8'));
    });
  }

  it('has no casts in the device example (nor in the controllers shown)', () => {
    for (const block of blocks) assert.doesNotMatch(block.body, /\bas (unknown|FindOptionsWhere|AbstractChunkUpload|DeviceUpload)\b/, block.path);
  });
});
