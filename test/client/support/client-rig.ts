/**
 * The set-up the client's process-level specs share: the example app and a
 * temp folder started before the suite, and after it every CLI child killed,
 * the fault proxy closed, the app stopped and the folder removed.
 */
import { after, before } from 'node:test';
import { startExampleApp, type ExampleApp } from './example-app';
import { startFaultProxy, type FaultPlan, type FaultProxy, type ForwardListener } from './fault-proxy';
import { tempFiles, type TempFiles } from './files';
import { killAll } from './run-cli';

export class ClientRig {
  private started?: { app: ExampleApp; files: TempFiles };
  private proxy?: FaultProxy;

  /** Registers the suite's before/after hooks. */
  constructor() {
    before(async () => {
      const [app, files] = await Promise.all([startExampleApp(), tempFiles()]);
      this.started = { app, files };
    });
    after(async () => {
      killAll();
      await this.closeProxy();
      await Promise.all([this.started?.app.stop(), this.started?.files.remove()]);
    });
  }

  /** The example app (started before the suite). */
  get app(): ExampleApp {
    return this.suite().app;
  }

  /** Temp files for the suite (removed after it). */
  get files(): TempFiles {
    return this.suite().files;
  }

  /** A fault proxy in front of the app (replacing the previous one, closed after the suite). */
  async startProxy(plan: FaultPlan = {}, onForward?: ForwardListener): Promise<FaultProxy> {
    await this.closeProxy();
    this.proxy = await startFaultProxy(this.app.port, plan, onForward);
    return this.proxy;
  }

  async closeProxy(): Promise<void> {
    const proxy = this.proxy;
    this.proxy = undefined;
    await proxy?.close();
  }

  private suite(): { app: ExampleApp; files: TempFiles } {
    if (this.started === undefined) throw new Error('ClientRig: the suite has not started');
    return this.started;
  }
}
