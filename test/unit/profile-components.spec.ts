/**
 * The bench's profile summary by component: a sample counts under the package or frago folder
 * of its top frame, native and node-internal frames under their nearest caller's, node's hash
 * functions under hashing, V8's pseudo-frames under their own name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';

interface Frame {
  functionName: string;
  url: string;
}
interface ProfileComponents {
  componentOfStack(stack: ReadonlyArray<Frame>): string;
}

const ROOT = resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const components = require(join(ROOT, 'bench', 'dist', 'profile-components.js')) as ProfileComponents;

const at = (functionName: string, path: string): Frame => ({ functionName, url: path.startsWith('node:') || path === '' ? path : `file://${ROOT}/${path}` });

describe('bench profile components', () => {
  it('counts a native socket write under the database driver that called it', () => {
    const stack = [
      at('writev', ''),
      at('writeGeneric', 'node:internal/stream_base_commons'),
      at('submit', 'node_modules/pg/lib/query.js'),
      at('handle', 'libs/chunked-upload/dist/services/chunk.service.js'),
    ];
    assert.equal(components.componentOfStack(stack), 'database (TypeORM + driver)');
  });

  it('counts node:crypto under hashing, whoever called it', () => {
    const stack = [at('update', 'node:internal/crypto/hash'), at('feed', 'libs/chunked-upload/dist/services/incremental-hash.js')];
    assert.equal(components.componentOfStack(stack), 'hashing (node:crypto)');
  });

  it('names frago frames by their folder, the client and the example app apart', () => {
    assert.equal(components.componentOfStack([at('close', ''), at('withWriter', 'libs/chunked-upload/dist/storage/local-disk.storage.js')]), 'frago storage/');
    assert.equal(components.componentOfStack([at('x', 'libs/chunked-upload/dist/index.js')]), 'frago (root)');
    assert.equal(components.componentOfStack([at('x', 'libs/client/dist/upload.js')]), 'frago client');
    assert.equal(components.componentOfStack([at('x', 'apps/example/dist/main.js')]), 'example app');
  });

  it('groups scoped and plain packages, and keeps unknown ones by name', () => {
    assert.equal(components.componentOfStack([at('x', 'node_modules/@fastify/busboy/lib/main.js')]), 'multipart parsing (@fastify/multipart, busboy)');
    assert.equal(components.componentOfStack([at('x', 'node_modules/@nestjs/core/router/router-proxy.js')]), 'Nest (+ rxjs)');
    assert.equal(components.componentOfStack([at('x', 'node_modules/find-my-way/index.js')]), 'Fastify');
    assert.equal(components.componentOfStack([at('x', 'node_modules/@scope/unknown/index.js')]), '@scope/unknown');
  });

  it('keeps V8 pseudo-frames and callbacks with no JavaScript caller apart', () => {
    assert.equal(components.componentOfStack([at('(garbage collector)', '')]), 'V8 (garbage collector)');
    assert.equal(
      components.componentOfStack([at('onStreamRead', 'node:internal/stream_base_commons'), at('(root)', '')]),
      'node, no JavaScript caller (I/O callbacks)',
    );
  });
});
