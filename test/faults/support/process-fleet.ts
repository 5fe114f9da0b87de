/**
 * The frame of the multi-process fault specs: app instances (child processes)
 * on one fresh server database and one data folder, and a probe that reads
 * the ledger directly; everything stopped and removed after the suite.
 * `boot()` adds one instance at a time (to restart after a kill).
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/test-databases';
import { AppProcesses, type AppProcess } from '../../helpers/app-process';
import { DbProbe } from './db-probe';

/** A 1 s reservation lease (fsync off: the stalled-writer specs are about fencing, not durability). */
export const SHORT_LEASE = { FRAGO_CHUNK_LEASE_MS: '1000', FRAGO_FSYNC: 'false' };

export interface FleetStart {
  /** Environment added to DATABASE_URL and FRAGO_DATA_DIR. */
  env?: Record<string, string>;
  /** The app's entry point. @default the example app */
  main?: string;
  /** Boot all at once (a rolling deploy on a fresh database) instead of one after the other. */
  together?: boolean;
}

export class ProcessFleet {
  private readonly apps = new AppProcesses();
  private db?: TestDatabase;
  private probe?: DbProbe;
  private folder?: string;

  /** Registers the suite's hooks: a database of `kind` and a data folder named after `prefix`. */
  constructor(kind: DatabaseKind, prefix: string) {
    before(async () => {
      this.db = await createTestDatabase(kind);
      this.folder = mkdtempSync(join(tmpdir(), prefix));
    });
    after(async () => {
      await this.apps.stopAll();
      await this.probe?.close();
      await this.db?.drop();
      if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    });
  }

  /** The data folder every instance uses (`chunked_uploads/`, `assembled_uploads/`). */
  get dataDir(): string {
    if (this.folder === undefined) throw new Error('ProcessFleet: the suite has not started');
    return this.folder;
  }

  /** Starts one instance on the fleet's database and data folder, with `env` added. */
  boot(env: Record<string, string> = {}, main?: string): Promise<AppProcess> {
    const { db } = this;
    if (db === undefined) throw new Error('ProcessFleet: the suite has not started');
    return this.apps.start({ main, env: { DATABASE_URL: db.url, FRAGO_DATA_DIR: this.dataDir, ...env } });
  }

  /** The probe that reads the fleet's ledger directly (opened once, closed after the suite). */
  async openProbe(): Promise<DbProbe> {
    if (this.db === undefined) throw new Error('ProcessFleet: the suite has not started');
    this.probe ??= await DbProbe.open(this.db);
    return this.probe;
  }

  /** Starts `count` instances, then opens the ledger probe. */
  async start(count: number, options: FleetStart = {}): Promise<{ instances: AppProcess[]; probe: DbProbe }> {
    const boot = (): Promise<AppProcess> => this.boot(options.env, options.main);
    const instances: AppProcess[] = [];
    if (options.together) instances.push(...(await Promise.all(Array.from({ length: count }, boot))));
    else for (let i = 0; i < count; i++) instances.push(await boot());
    return { instances, probe: await this.openProbe() };
  }
}
