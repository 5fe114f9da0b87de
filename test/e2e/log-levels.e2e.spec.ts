import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/test-databases';
import { RecordingLogger } from '../helpers/unhandled-errors';
import { deleteUpload, digest, finalize, getStatus, putChunk, startOk, startUpload, testBytes } from '../helpers/upload-client';

type Level = 'error' | 'fatal' | 'warn' | 'log' | 'debug' | 'verbose';

/** Records every line the app logs, at every level (and still records errors for close()'s check). */
class EveryLevelLogger extends RecordingLogger {
  readonly lines: Array<{ level: Level; text: string }> = [];

  constructor() {
    super();
    this.setLogLevels(['error', 'fatal', 'warn', 'log', 'debug', 'verbose']);
  }

  private keep(level: Level, parts: unknown[]): void {
    this.lines.push({ level, text: parts.map((part) => (part instanceof Error ? (part.stack ?? part.message) : String(part))).join(' ') });
  }

  override error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', [message, ...rest]);
    super.error(message, ...rest);
  }
  override fatal(message: unknown, ...rest: unknown[]): void {
    this.keep('fatal', [message, ...rest]);
  }
  override warn(message: unknown, ...rest: unknown[]): void {
    this.keep('warn', [message, ...rest]);
  }
  override log(message: unknown, ...rest: unknown[]): void {
    this.keep('log', [message, ...rest]);
  }
  override debug(message: unknown, ...rest: unknown[]): void {
    this.keep('debug', [message, ...rest]);
  }
  override verbose(message: unknown, ...rest: unknown[]): void {
    this.keep('verbose', [message, ...rest]);
  }
}

for (const kind of databaseKinds()) {
  describe(`logs at the level that fits on ${kind}`, () => {
    let db: TestDatabase;
    let t: TestApp;
    const logger = new EveryLevelLogger();

    before(async () => {
      db = await createTestDatabase(kind);
      t = await createTestApp({ db, logger, options: { maxChunkSize: 4096 } });
    });
    after(async () => {
      await (t as TestApp | undefined)?.close();
      await (db as TestDatabase | undefined)?.drop();
    });

    it('a flood of client mistakes (every kind of 4xx) logs no error or warning and no stack: one debug line per refused request', async () => {
      const url = t.uploadUrl;
      const data = testBytes(3000);
      const complete = await startOk(url, 'done.bin', data.length);
      assert.equal((await putChunk(url, complete, data, 0, data.length)).status, 200);
      assert.equal((await finalize(url, complete, { checksum: digest(data) })).status, 201);
      const open = await startOk(url, 'open.bin', data.length);
      assert.equal((await putChunk(url, open, data.subarray(0, 1000), 0, data.length)).status, 200);
      const unknown = '00000000-0000-4000-8000-000000000000';
      logger.lines.length = 0;

      const mistakes: Array<() => Promise<number>> = [
        async () => (await startUpload(url, { total_size: 5 })).status,
        async () => (await startUpload(url, { filename: 'a', total_size: -1 })).status,
        async () => (await startUpload(url, { filename: 'huge', total_size: 60 * 1024 ** 3 })).status,
        async () => (await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filename":' })).status,
        async () => (await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'text/x-unknown' }, body: 'x' })).status,
        async () => (await getStatus(url, unknown)).status,
        async () => (await getStatus(url, 'not-a-uuid')).status,
        async () => (await fetch(`${url}/`)).status,
        async () => (await putChunk(url, open, data.subarray(0, 10), 0, data.length, { contentRange: null })).status,
        async () => (await putChunk(url, open, data.subarray(0, 10), 0, data.length, { contentRange: 'bytes 9-1/3000' })).status,
        async () => (await putChunk(url, open, data.subarray(0, 10), 0, data.length, { contentRange: 'bytes 0-19/3000' })).status,
        async () => (await putChunk(url, open, data.subarray(500, 1500), 500, data.length)).status,
        async () => (await putChunk(url, open, testBytes(5000), 0, 5000)).status,
        async () =>
          (
            await putChunk(url, open, data.subarray(1000, 1010), 1000, data.length, {
              headers: { 'content-digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:` },
            })
          ).status,
        async () =>
          (
            await fetch(`${url}/${open}/`, {
              method: 'PUT',
              headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-range': 'bytes 1000-1009/3000' },
              body: '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
            })
          ).status,
        async () => (await putChunk(url, complete, data.subarray(0, 10), 0, data.length)).status,
        async () => (await putChunk(url, unknown, data.subarray(0, 10), 0, data.length)).status,
        async () => (await finalize(url, open, { checksum: digest(data) })).status,
        async () => (await finalize(url, open, { checksum: digest(data), checksum_algo: 'nope' })).status,
        async () => (await deleteUpload(url, unknown)).status,
      ];
      const rounds = 5;
      const statuses: number[] = [];
      for (let round = 0; round < rounds; round++) {
        statuses.push(...(await Promise.all(mistakes.map((mistake) => mistake()))));
      }
      for (const status of statuses) assert.ok(status >= 400 && status < 500, `a client mistake is a 4xx: ${statuses.join(',')}`);

      const serious = logger.lines.filter((line) => line.level === 'error' || line.level === 'fatal' || line.level === 'warn');
      assert.deepEqual(serious, [], "no error, fatal or warning for a client's mistake");
      const stacks = logger.lines.filter((line) => /\n\s+at \S/.test(line.text));
      assert.deepEqual(stacks, [], 'no stack trace');
      const refused = logger.lines.filter((line) => line.level === 'debug' && / refused: 4\d\d /.test(line.text));
      assert.equal(refused.length, statuses.length, `one line per refused request:\n${logger.lines.map((line) => `${line.level} ${line.text}`).join('\n')}`);
      assert.equal(logger.lines.length, refused.length, 'and nothing else');
    });
  });
}
