/** The test app of an e2e describe block: one app (and its database) for the block, with the frago event log. */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ChunkedUploadOptions } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../../helpers/create-test-app';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/test-databases';
import { FragoEventLog } from '../../helpers/frago-event-log';

export interface AppUnderTest {
  t: TestApp;
  events: FragoEventLog;
  /** Uncaught exceptions while the block ran (recorded with `failOnUncaught`). */
  uncaught: unknown[];
}

export interface Fixture {
  /** Record uncaught exceptions from before the app starts until it is closed; the block fails on any. */
  failOnUncaught?: boolean;
}

/** One app (and database) for the enclosing describe block. */
export function useTestApp(kind: DatabaseKind, options: ChunkedUploadOptions = {}, fixture: Fixture = {}): AppUnderTest {
  let db: TestDatabase;
  const state = { uncaught: [] as unknown[] } as AppUnderTest;
  const record = (error: unknown): void => {
    state.uncaught.push(error);
  };
  before(async () => {
    if (fixture.failOnUncaught) process.on('uncaughtException', record);
    db = await createTestDatabase(kind);
    state.t = await createTestApp({ db, options, providers: [FragoEventLog] });
    state.events = state.t.app.get(FragoEventLog);
  });
  after(async () => {
    process.off('uncaughtException', record);
    await state.t?.close();
    await db?.drop();
    if (fixture.failOnUncaught) assert.deepEqual(state.uncaught, [], 'no uncaught exception while the block ran');
  });
  return state;
}
