// Builds the jobs capability from the config and the adapters, for the composition roots (the gateway's
// and the worker's): BullMQ and Redis pub/sub when REDIS_URL is set, in-process queue and events otherwise.
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { InferenceClient } from "../../inference/client/index.js";
import type { JobsConfig } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { BlobStore } from "../platform/blobs/index.js";
import { Transcripts } from "../transcripts/transcripts.js";
import { ModelCatalog } from "../models/catalog.js";
import { MemoryJobEvents, RedisJobEvents, type JobEvents } from "./events.js";
import { Jobs, type JobsOptions } from "./jobs.js";
import { BullJobQueue, MemoryJobQueue, type JobQueue } from "./queue.js";
import { JobRunner, type JobRunnerOptions } from "./runner.js";
import { JobWorker } from "./worker.js";

export interface JobsAdapters {
  database: Database;
  /** Where runners write transcripts; by default one over `database` (only its create is used). */
  transcripts?: Transcripts;
  blobs: BlobStore;
  inference: InferenceClient;
  redis?: Redis;
  redisUrl?: string;
  logger: Logger;
  /** What each model accepts, and the default model; built from the inference client when left out. */
  models?: ModelCatalog;
}

export interface JobsCapabilityOptions {
  /** Start runners in this process (the worker; the gateway in the embedded mode). */
  runJobs: boolean;
  /** Queue name and Redis channel; the config's JOB_QUEUE_NAME unless given (tests give each suite its own). */
  namespace?: string;
  /** Where jobs meet webhooks (onJobFinished), usage (recordUsage) and quotas (admitJob); no-ops by default. */
  hooks?: Pick<JobRunnerOptions, "onJobFinished" | "recordUsage"> & Pick<JobsOptions, "admitJob">;
  /** Tests: shorter heartbeats, backoff and lock times. */
  tuning?: Partial<Pick<JobRunnerOptions, "heartbeatMs" | "backoffMs">> & { watchPollMs?: number; lockDurationMs?: number };
}

export interface JobsCapability {
  jobs: Jobs;
  queue: JobQueue;
  events: JobEvents;
  runner?: JobRunner;
  worker?: JobWorker;
  close(): Promise<void>;
}

export function createJobsCapability(config: JobsConfig, adapters: JobsAdapters, options: JobsCapabilityOptions): JobsCapability {
  const namespace = options.namespace ?? config.queueName;
  const queue: JobQueue =
    adapters.redis && adapters.redisUrl
      ? new BullJobQueue({ redisUrl: adapters.redisUrl, name: `${namespace}-jobs`, prefix: "bull", lockDurationMs: options.tuning?.lockDurationMs ?? config.staleSeconds * 1000 })
      : new MemoryJobQueue();
  const events: JobEvents = adapters.redis ? new RedisJobEvents(adapters.redis, { prefix: namespace, logger: adapters.logger }) : new MemoryJobEvents();
  const jobs = new Jobs({
    database: adapters.database,
    queue,
    events,
    models: adapters.models ?? new ModelCatalog(adapters.inference, { defaultModel: config.defaultModel }),
    defaultModel: config.defaultModel,
    rnnoiseModel: config.rnnoiseModel,
    watchPollMs: options.tuning?.watchPollMs,
    admitJob: options.hooks?.admitJob,
  });
  let runner: JobRunner | undefined;
  let worker: JobWorker | undefined;
  if (options.runJobs) {
    runner = new JobRunner({
      database: adapters.database,
      transcripts: adapters.transcripts ?? new Transcripts(adapters.database),
      blobs: adapters.blobs,
      inference: adapters.inference,
      events,
      queue,
      logger: adapters.logger.child({ component: "job-runner" }),
      defaultModel: config.defaultModel,
      rnnoiseModel: config.rnnoiseModel,
      staleAfterMs: config.staleSeconds * 1000,
      maxAttempts: config.maxAttempts,
      heartbeatMs: options.tuning?.heartbeatMs,
      backoffMs: options.tuning?.backoffMs,
      onJobFinished: options.hooks?.onJobFinished,
      recordUsage: options.hooks?.recordUsage,
    });
    worker = new JobWorker({
      database: adapters.database,
      queue,
      runner,
      logger: adapters.logger,
      concurrency: config.concurrency,
      reconcileIntervalMs: config.reconcileSeconds * 1000,
      staleAfterMs: config.staleSeconds * 1000,
    });
    worker.start();
  }
  let closed: Promise<void> | undefined;
  return {
    jobs,
    queue,
    events,
    runner,
    worker,
    close: () =>
      (closed ??= (async () => {
        if (worker) await worker.stop();
        else await queue.close();
        await events.close();
      })()),
  };
}
