import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getHashes } from 'node:crypto';
import { Registry } from 'prom-client';
import { resolveChunkedUploadOptions } from 'nestjs-frago/dist/options/resolve-options';
import { ChunkStorage, IdentifierStrategy, InvalidFragoOptionError, LocalDiskChunkStorage } from 'nestjs-frago';

/** Asserts that resolving `options` fails with a message naming `option`. */
function refused(options: Record<string, unknown>, option: string): void {
  assert.throws(
    () => resolveChunkedUploadOptions(options),
    (error: unknown) => {
      assert.ok(error instanceof InvalidFragoOptionError, `an InvalidFragoOptionError, got ${String(error)}`);
      assert.ok(error.message.includes(`"${option}"`), `"${error.message}" names ${option}`);
      return true;
    },
    `should refuse ${option} = ${String(options[option])}`,
  );
}

class HeaderStrategy extends IdentifierStrategy {
  resolve(): string {
    return 'x';
  }
}

describe('resolveChunkedUploadOptions', () => {
  it("applies frago's defaults and freezes the result", () => {
    const resolved = resolveChunkedUploadOptions(undefined);
    assert.equal(resolved.identifierMode, 'anonymous');
    assert.equal(resolved.chunkUploadPath, 'chunked_uploads/');
    assert.equal(resolved.assembledPath, 'assembled_uploads/');
    assert.equal(resolved.checksumType, 'md5');
    assert.equal(resolved.doChecksum, true);
    assert.equal(resolved.expiration, 24 * 60 * 60 * 1000);
    assert.equal(resolved.assembleReadSize, 8 * 1024 * 1024);
    assert.equal(resolved.maxUploadSize, 50 * 1024 ** 3);
    assert.equal(resolved.maxChunkSize, 256 * 1024 ** 2);
    assert.equal(resolved.cleanupInterval, 60 * 60 * 1000);
    assert.equal(resolved.storage, null);
    assert.ok(Object.isFrozen(resolved));
    assert.deepEqual(resolveChunkedUploadOptions({}), resolved);
  });

  it('keeps valid values as given', () => {
    const storage = new LocalDiskChunkStorage('/tmp/a', '/tmp/b');
    const resolved = resolveChunkedUploadOptions({
      identifierMode: 'user',
      chunkUploadPath: '/data/chunks',
      assembledPath: '/data/done',
      checksumType: 'SHA256',
      doChecksum: false,
      expiration: 1000,
      assembleReadSize: 4096,
      maxUploadSize: 10_000,
      maxChunkSize: 10_000,
      cleanupInterval: 0,
      storage,
    });
    assert.equal(resolved.identifierMode, 'user');
    assert.equal(resolved.chunkUploadPath, '/data/chunks');
    assert.equal(resolved.assembledPath, '/data/done');
    assert.equal(resolved.checksumType, 'sha256', 'algorithm names are case-insensitive');
    assert.equal(resolved.doChecksum, false);
    assert.equal(resolved.expiration, 1000);
    assert.equal(resolved.assembleReadSize, 4096);
    assert.equal(resolved.maxUploadSize, 10_000);
    assert.equal(resolved.maxChunkSize, 10_000);
    assert.equal(resolved.cleanupInterval, 0, '0 turns the sweeper off');
    assert.equal(resolved.storage, storage);
    assert.equal(resolveChunkedUploadOptions({ identifierMode: HeaderStrategy }).identifierMode, HeaderStrategy);
    assert.equal(resolveChunkedUploadOptions({ checksumType: 'sha512' }).checksumType, 'sha512');
  });

  it('refuses a bad identifierMode, naming it', () => {
    class NotAStrategy {
      readonly kind = 'not a strategy';
    }
    for (const value of ['admin', '', 42, null, NotAStrategy, () => 'x', {}]) refused({ identifierMode: value }, 'identifierMode');
  });

  it('refuses bad folders, naming them', () => {
    for (const option of ['chunkUploadPath', 'assembledPath']) {
      for (const value of ['', '   ', 'a\u0000b', 42, null, ['x']]) refused({ [option]: value }, option);
    }
  });

  it('refuses a checksumType node:crypto does not know, naming it', () => {
    // Names no OpenSSL knows ('sha-256' is no example: Node 26 lists that alias in getHashes()).
    const unknown = ['nope', 'sha-257', 'md6'];
    for (const name of unknown) assert.ok(!getHashes().includes(name), `${name} is a hash this node knows: pick another example`);
    for (const value of [...unknown, '', 5, null]) refused({ checksumType: value }, 'checksumType');
  });

  it('takes any name crypto.getHashes() lists on this node, in any case', () => {
    for (const name of getHashes()) assert.equal(resolveChunkedUploadOptions({ checksumType: name.toUpperCase() }).checksumType, name.toLowerCase());
  });

  it('refuses a doChecksum that is not a boolean, naming it', () => {
    for (const value of ['true', 1, 0, null]) refused({ doChecksum: value }, 'doChecksum');
  });

  it('refuses sizes and times that are not positive integers, naming them', () => {
    for (const option of ['expiration', 'assembleReadSize', 'maxUploadSize', 'maxChunkSize', 'chunkLeaseTimeout']) {
      for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '100', null]) refused({ [option]: value }, option);
    }
  });

  it('refuses a cleanupInterval or finalizeWaitTimeout below 0 or not an integer, naming it', () => {
    for (const option of ['cleanupInterval', 'finalizeWaitTimeout']) {
      for (const value of [-1, 0.5, '1000', Number.NaN, null]) refused({ [option]: value }, option);
    }
  });

  it('refuses a maxChunkSize above maxUploadSize, naming maxChunkSize', () => {
    refused({ maxUploadSize: 1000, maxChunkSize: 1001 }, 'maxChunkSize');
    refused({ maxUploadSize: 1000 }, 'maxChunkSize');
  });

  it('refuses a storage that is not a ChunkStorage, naming it', () => {
    for (const value of [{}, 'disk', 42, LocalDiskChunkStorage, { writeChunk() {} }]) refused({ storage: value }, 'storage');
    assert.ok(resolveChunkedUploadOptions({ storage: new LocalDiskChunkStorage('a', 'b') }).storage instanceof ChunkStorage);
  });

  it('refuses quota options that are not positive integers, naming them', () => {
    for (const option of ['maxActiveUploadsPerIdentifier', 'maxActiveBytesPerIdentifier']) {
      for (const value of [0, -1, 2.5, 'ten']) refused({ [option]: value }, option);
      assert.equal(resolveChunkedUploadOptions({ [option]: null })[option as 'maxActiveUploadsPerIdentifier'], null);
    }
  });

  it('refuses a quota in anonymous mode (where it would be silently ignored) at boot, naming the option', () => {
    for (const option of ['maxActiveUploadsPerIdentifier', 'maxActiveBytesPerIdentifier']) {
      refused({ [option]: 5 }, option);
      refused({ identifierMode: 'anonymous', [option]: 5 }, option);
      assert.equal(resolveChunkedUploadOptions({ identifierMode: 'user', [option]: 5 })[option as 'maxActiveUploadsPerIdentifier'], 5);
    }
    assert.throws(() => resolveChunkedUploadOptions({ maxActiveUploadsPerIdentifier: 5 }), /anonymous callers have none/);
  });

  it('metrics: off by default; true or { registry, prefix } turn them on; a bad registry, prefix or key is refused, naming it', () => {
    assert.equal(resolveChunkedUploadOptions({}).metrics, null);
    assert.equal(resolveChunkedUploadOptions({ metrics: false }).metrics, null);
    assert.deepEqual(resolveChunkedUploadOptions({ metrics: true }).metrics, { registry: null, prefix: 'frago_' });
    const registry = new Registry();
    assert.deepEqual(resolveChunkedUploadOptions({ metrics: { registry, prefix: 'uploads_' } }).metrics, { registry, prefix: 'uploads_' });
    refused({ metrics: 'yes' }, 'metrics');
    refused({ metrics: { registry: {} } }, 'metrics.registry');
    refused({ metrics: { prefix: 'bad-name' } }, 'metrics.prefix');
    refused({ metrics: { registy: registry } }, 'metrics.registy');
  });

  it('refuses an unknown option (a typo), naming it', () => {
    refused({ maxUplaodSize: 10 }, 'maxUplaodSize');
    refused({ checksum_type: 'md5' }, 'checksum_type');
  });

  it('refuses the definition-time extras among the options (where a forRootAsync factory would put them), saying to move them to the top level', () => {
    for (const key of ['uploadEntity', 'chunkEntity', 'routePrefix', 'isGlobal']) {
      assert.throws(
        () => resolveChunkedUploadOptions({ [key]: 'x' }),
        (error: Error) => error.message.includes(`"${key}"`) && error.message.includes('forRootAsync') && error.message.includes('top level'),
      );
    }
  });
});
