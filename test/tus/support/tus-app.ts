import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { ChunkedUploadOptions } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../../helpers/create-test-app';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/test-databases';
import { FragoEventLog } from '../../helpers/frago-event-log';
import { createTus } from './tus-http';

/** What a tus suite works with, filled in by its `before` hook. */
export interface TusSuite {
  db: TestDatabase;
  t: TestApp;
  /** `<base>/api/files`, the tus collection URL (no trailing slash). */
  files: string;
  events: FragoEventLog;
  /** Creates an upload of `length` bytes with `headers` (its owner, extensions), asserting 201. */
  create(length: number, headers?: Record<string, string>): Promise<{ url: string; id: string }>;
  /** The published file `name` under the app's assembled folder. */
  assembled(name: string): Buffer;
}

/**
 * Registers, in the calling `describe`, the `before`/`after` hooks of a
 * fresh database of `kind` and an app with the tus endpoint at `files`
 * (module `options` as given) and an event log; returns the object they fill.
 */
export function tusSuite(kind: DatabaseKind, options: ChunkedUploadOptions = {}): TusSuite {
  const suite = {
    async create(length: number, headers: Record<string, string> = {}) {
      const { response, url, id } = await createTus(suite.files, { 'upload-length': String(length), ...headers });
      assert.equal(response.status, 201);
      return { url, id };
    },
    assembled: (name: string) => readFileSync(join(suite.t.assembledDir, name)),
  } as TusSuite;
  before(async () => {
    suite.db = await createTestDatabase(kind);
    suite.t = await createTestApp({ db: suite.db, providers: [FragoEventLog], options, extras: { tusPath: 'files' } });
    suite.files = `${suite.t.baseUrl}/api/files`;
    suite.events = suite.t.app.get(FragoEventLog);
  });
  after(async () => {
    await suite.t?.close();
    await suite.db?.drop();
  });
  return suite;
}

/** The owner the protocol specs create their uploads as (`identifierMode: 'user'`, `x-user`). */
export const ALICE = { 'x-user': 'alice' };
/** `maxUploadSize` and `maxChunkSize` of {@link ownedTusSuite} (Tus-Max-Size). */
export const OWNED_MAX = 4 * 1024 * 1024;

/** A {@link tusSuite} in user mode with {@link OWNED_MAX} limits whose `create()` creates as {@link ALICE}. */
export function ownedTusSuite(kind: DatabaseKind): TusSuite {
  const suite = tusSuite(kind, { identifierMode: 'user', maxUploadSize: OWNED_MAX, maxChunkSize: OWNED_MAX });
  const create = suite.create.bind(suite);
  suite.create = (length, headers = {}) => create(length, { ...ALICE, ...headers });
  return suite;
}
