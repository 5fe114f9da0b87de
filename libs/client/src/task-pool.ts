/**
 * Bounded concurrency for chunk requests: at most `limit` tasks run at once,
 * and the first failure stops the pool (later `add` and `drain` calls throw it).
 */

/** Runs async tasks with a concurrency limit and fail-fast semantics. */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  /**
   * @param limit maximum number of tasks running at once
   * @param onFailure called once with the first error, e.g. to abort the other tasks
   */
  constructor(
    private readonly limit: number,
    private readonly onFailure: (error: unknown) => void = () => undefined,
  ) {}

  /** Resolves once a task may start (fewer than `limit` running); throws the pool's failure if any. */
  async slot(): Promise<void> {
    while (this.failure === undefined && this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Starts `task` after waiting for a free slot. Its error is recorded, not thrown here. */
  async add(task: () => Promise<void>): Promise<void> {
    await this.slot();
    const running: Promise<void> = task()
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /** Waits for every running task; throws the first failure, if any. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Records a failure from outside a task (e.g. a read error) so the pool stops. */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.onFailure(error);
  }
}
