// The one place the platform's capabilities are built, from the one validated config object and the
// opened adapters. Both composition roots use it: the gateway's (gateway/platform.ts, which puts the
// listeners in front) and the worker's (services/worker/main.ts). Tests build the platform through the
// gateway's root with `CompositionOverrides`, never with wiring of their own.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { exposeFailureMetrics } from "../platform/failures.js";
import type { Config } from "../platform/config/config.js";
import type { Adapters } from "../platform/adapters.js";
import type { Mailer } from "../platform/mail/mailer.js";
import { createJobsCapability, type JobsCapability, type JobsCapabilityOptions } from "../jobs/capability.js";
import { jobHandler } from "../jobs/handler.js";
import { jobEvents } from "../jobs/job-events.js";
import { exposeQueueDepth } from "../jobs/queue.js";
import { Cleanup } from "../lifecycle/cleanup.js";
import { AuditLog } from "../identity/audit/audit-log.js";
import { Usage } from "../usage/usage.js";
import type { LiveStreamObserver } from "../speech/live-observer.js";
import type { EngineObserver } from "../speech/engine/types.js";
import { createIdentity, type Identity } from "./identity.js";
import { createMedia, type MediaCapability, type MediaCapabilityOptions } from "./media.js";
import { createSpeech, type SpeechCapability } from "./speech.js";
import { createTranscriptCapabilities, type TranscriptCapabilities } from "./transcripts.js";
import { createWebhooks, type WebhooksCapability } from "./webhooks.js";
import { openWebhooks, type OpenWebhooks } from "../webhooks/index.js";
import type { ProductHandlers } from "./product-services.js";
import { ModelCatalog } from "../models/catalog.js";
import { textHandler } from "../arabic-text/handler.js";
import { createBilling, type BillingCapability } from "../billing/capability.js";
import { SystemStatsReader } from "../admin/system-stats.js";
import { systemStatsHandler } from "../admin/system-stats-handler.js";
import { createPrivacy, type PrivacyCapability } from "../privacy/capability.js";

/** The adapters a composition takes: the opened ones, without their lifecycle (the root closes them). */
export type ComposedAdapters = Pick<Adapters, "database" | "blobs" | "redis" | "inference"> & { logger: Logger };

/** What a test may change in how the platform is built; production leaves all of it out. */
export interface CompositionOverrides {
  /** Prefix of the Redis keys of rate limits and stream slots (each test platform its own). */
  rateLimitPrefix?: string;
  /** Mail transport instead of the one SMTP_URL or the outbox gives. */
  mailer?: Mailer;
  /** Extra CA certificates webhook deliveries trust, and how often the dispatcher polls. */
  webhooks?: { ca?: string; pollIntervalMs?: number };
  /** The media sweeper's interval (0: off) and CompleteUpload's wait. */
  media?: MediaCapabilityOptions;
  /** Live recognition's engine timings, the live-session bus and session timings (shorter in tests). */
  speech?: Pick<Parameters<typeof createSpeech>[1], "engine" | "bus" | "sessions" | "resumeGraceMs" | "streamNamespace">;
  /** Whether this process runs jobs, the queue's namespace, hooks in place of webhooks/usage/quota, shorter timings. */
  jobs?: Partial<Pick<JobsCapabilityOptions, "runJobs" | "namespace" | "hooks" | "tuning">>;
}

export interface ComposeOptions {
  /** The process's metrics registry (webhook dispatcher). */
  registry?: Registry;
  /** Live recognition's latency observer (the gateway's histograms). */
  liveObserver?: EngineObserver;
  /** StreamingRecognize streams' drops, resumes and lag (the gateway's metrics). */
  streamObserver?: LiveStreamObserver;
  overrides?: CompositionOverrides;
}

/** Everything the API process serves, and how to close it (the adapters stay open: the root owns them). */
export interface ApiServices {
  /** Accounts, organisations, API keys, audit, rate limits and stream slots. */
  identity: Identity;
  /** Webhook endpoints, `publish` for events, and the delivery dispatcher. */
  webhooks: WebhooksCapability;
  /** Transcripts, search, exports, usage and quotas. */
  transcripts: TranscriptCapabilities;
  /** Batch jobs; in the embedded mode (no REDIS_URL) this process also runs them. */
  jobs: JobsCapability;
  /** Uploaded media; `media.library.openForProcessing` is how a job reads a file. */
  media: MediaCapability;
  /** Live recognition: StreamingRecognize, Recognize, ListModels and the browser trio. */
  speech: SpeechCapability;
  /** The scheduled lifecycle cleanup (expired exports, purged deletions, old deliveries); `run(now)` runs it once. */
  cleanup: Cleanup;
  /** Plans, invoices, Stripe's webhooks and the usage reporter (services/billing). */
  billing: BillingCapability;
  /** Data exports of organisations, and erasures of users and organisations. */
  privacy: PrivacyCapability;
  /** Every RPC handler, by service, for the gateway to mount. */
  handlers: ProductHandlers;
  /** Shutdown, first step, beside the gateway's drain: live streams finalised and left for a resume elsewhere. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The database's name: replicas that store into one database share live sessions in Redis, others never mix. */
function databaseNamespace(config: Config): string {
  if (!config.database.url) return "embedded";
  return decodeURIComponent(new URL(config.database.url).pathname.replace(/^\/+/, "")) || "default";
}

export async function composeApi(config: Config, adapters: ComposedAdapters, options: ComposeOptions = {}): Promise<ApiServices> {
  const { logger } = adapters;
  const overrides = options.overrides ?? {};
  const closers: Array<() => Promise<void>> = [];
  if (options.registry) exposeFailureMetrics(options.registry);
  const close = async () => {
    for (const closeOne of closers.splice(0).reverse()) await closeOne();
  };
  try {
    const identity = await createIdentity(config, { ...adapters, mailer: overrides.mailer }, { rateLimitPrefix: overrides.rateLimitPrefix });
    closers.push(() => identity.close());
    const webhooks = await createWebhooks(
      config,
      { database: adapters.database, audit: identity.audit, logger },
      { registry: options.registry, ca: overrides.webhooks?.ca, pollIntervalMs: overrides.webhooks?.pollIntervalMs },
    );
    closers.push(() => webhooks.close());
    const transcripts = createTranscriptCapabilities(config, adapters, { streamSlots: identity.streamSlots, organizations: identity.organizationSnapshots });
    // What each model accepts, and the model of a request that names none, live or batch: the configured default.
    const models = new ModelCatalog(adapters.inference, { defaultModel: config.jobs.defaultModel });
    // Before speech: Recognize reads uploaded media by id.
    const media = createMedia(config, adapters, identity.audit, overrides.media);
    closers.push(() => media.close());
    const speech = createSpeech(adapters, { models, resumeGraceMs: config.live.resumeGraceMs, streamNamespace: databaseNamespace(config), streamObserver: options.streamObserver, ...overrides.speech, transcripts: transcripts.transcripts, usage: transcripts.usage, streamSlots: identity.streamSlots, organizations: identity.organizationSnapshots, observer: options.liveObserver, media: media.library, rnnoiseModel: config.jobs.rnnoiseModel });
    closers.push(() => speech.close());
    // With Redis, workers (`npm run worker`) run the jobs; without it, this process is the whole platform.
    const jobs = createJobsCapability(
      config.jobs,
      { ...adapters, models, transcripts: transcripts.transcripts, redisUrl: config.redis?.url },
      { runJobs: !config.redis, ...overrides.jobs, hooks: overrides.jobs?.hooks ?? jobEvents({ webhooks: webhooks.webhooks, usage: transcripts.usage }) },
    );
    closers.push(() => jobs.close());
    // Embedded mode: this process runs the jobs, so its /metrics carries the queue's depth (the worker's otherwise).
    if (options.registry && jobs.runner) exposeQueueDepth(options.registry, jobs.queue);
    const cleanup = new Cleanup(adapters.database, adapters.blobs, webhooks.webhooks, config.lifecycle, logger);
    cleanup.start(config.lifecycle.intervalSeconds * 1000);
    closers.push(() => cleanup.stop());
    const billing = createBilling(config.billing, { database: adapters.database, audit: identity.audit, logger, organizations: identity.organizationSnapshots });
    closers.push(() => billing.close());
    const privacy = createPrivacy({ ...adapters, audit: identity.audit }, { scratchDir: config.media.scratchDir, retentionDays: config.lifecycle.exportRetentionDays });
    closers.push(() => privacy.close());
    const handlers: ProductHandlers = {
      ...identity.handlers,
      ...webhooks.handlers,
      ...transcripts.handlers,
      ...media.handlers,
      ...speech.handlers,
      "arabicstt.v1.JobService": jobHandler(jobs.jobs),
      "arabicstt.v1.AdminService": {
        ...identity.handlers["arabicstt.v1.AdminService"],
        ...systemStatsHandler(
          new SystemStatsReader({
            database: adapters.database,
            models,
            repositoryIndex: (o) => adapters.inference.repositoryIndex(o),
            openStreams: () => identity.streamSlots.openCount(),
            workers: () => jobs.queue.workerCount(),
          }),
        ),
      },
      "arabicstt.v1.PrivacyService": privacy.handler,
      // Stateless: the text chain needs no adapter.
      "arabicstt.v1.TextService": textHandler(),
      "arabicstt.v1.BillingService": billing.handler,
    };
    return { identity, webhooks, transcripts, jobs, media, speech, cleanup, billing, privacy, handlers, drain: () => speech.drain(), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** What the worker process runs: jobs from the queue, publishing their webhooks and recording their usage. */
export interface WorkerServices {
  jobs: JobsCapability;
  webhooks: OpenWebhooks;
  close(): Promise<void>;
}

export async function composeWorker(config: Config, adapters: ComposedAdapters, options: Pick<ComposeOptions, "registry"> = {}): Promise<WorkerServices> {
  if (options.registry) exposeFailureMetrics(options.registry);
  // Finished jobs go to webhooks (published here, sent by the gateways' dispatchers) and usage.
  const webhooks = await openWebhooks(config, { database: adapters.database, audit: new AuditLog(adapters.database), logger: adapters.logger }, { registry: options.registry, dispatch: false });
  const usage = new Usage(adapters.database, config.usage);
  const jobs = createJobsCapability(config.jobs, { ...adapters, redisUrl: config.redis?.url }, { runJobs: true, hooks: jobEvents({ webhooks: webhooks.webhooks, usage }) });
  return {
    jobs,
    webhooks,
    close: async () => {
      await jobs.close();
      await webhooks.close();
    },
  };
}
