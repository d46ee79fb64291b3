// A process's share of the batch work: runners consuming the queue, and the reconciler that keeps the
// queue honest against the database. The worker process (`npm run worker`) starts one; in the embedded
// mode the gateway process starts one too, so a fresh clone transcribes with no other process.
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import { queueKey, type JobQueue } from "./queue.js";
import type { JobRunner } from "./runner.js";

export interface JobWorkerOptions {
  database: Database;
  queue: JobQueue;
  runner: JobRunner;
  logger: Logger;
  concurrency: number;
  /** How often the reconciler runs; it also runs once at start. */
  reconcileIntervalMs: number;
  /** A running job not heard of for this long is re-sent (its runner died). */
  staleAfterMs: number;
}

/**
 * Re-sends every job the database says should be in the queue: queued jobs whose backoff has passed, and
 * running jobs whose runner stopped beating. Sending twice is harmless (the queue drops a key it holds; a
 * runner claims a job once), so this needs no knowledge of what the queue holds.
 */
export async function reconcileQueue(database: Database, queue: JobQueue, staleAfterMs: number): Promise<number> {
  const rows = await database
    .fork()
    .getConnection()
    .execute<Array<{ id: string; priority: number; attempts: number }>>(
      `select id, priority, attempts from jobs
       where (status = 'queued' and (not_before is null or not_before <= now()))
          or (status = 'running' and updated_at < now() - make_interval(secs => ?))
       order by priority desc, created_at limit 1000`,
      [staleAfterMs / 1000],
    );
  for (const row of rows) await queue.enqueue(row.id, { priority: row.priority, key: queueKey(row.id, row.attempts) });
  return rows.length;
}

export class JobWorker {
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<unknown>;
  private stopped = false;

  constructor(private readonly options: JobWorkerOptions) {}

  start(): void {
    this.options.runner
      .sweepTempDirs()
      .then((removed) => removed > 0 && this.options.logger.info({ removed }, "removed the temporary files of dead workers"))
      .catch((err: unknown) => this.options.logger.warn({ err }, "sweeping temporary files failed"));
    this.options.queue.consume((jobId, trace) => this.options.runner.run(jobId, trace), this.options.concurrency);
    this.reconcile();
    this.timer = setInterval(() => this.reconcile(), this.options.reconcileIntervalMs);
    this.timer.unref();
  }

  /** One reconciliation now (tests, and the interval). */
  reconcile(): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    this.reconciling ??= reconcileQueue(this.options.database, this.options.queue, this.options.staleAfterMs)
      .then((count) => count > 0 && this.options.logger.debug({ jobs: count }, "reconciler re-sent jobs"))
      .catch((err: unknown) => this.options.logger.warn({ err }, "reconciling the job queue failed"))
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  /** Stops taking jobs; jobs running now go back to the queue for another runner. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reconciling;
    this.options.runner.abortAll();
    await this.options.queue.close();
  }
}
