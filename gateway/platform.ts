// The composition root of the API process: the adapters from the one config object, the
// gateway in front of them, and the way to take it all down again.
import type { Config } from "../services/platform/config/config.js";
import { openAdapters, type Adapters } from "../services/platform/adapters.js";
import { Readiness } from "../services/platform/readiness.js";
import type { HttpRoute } from "../services/platform/probes.js";
import { FsBlobStore, createFsBlobHttpHandler } from "../services/platform/blobs/index.js";
import type { Logger } from "../services/platform/logger.js";
import { createGatewayMetrics, type GatewayMetrics } from "./interceptors/metrics.js";
import { startGateway, type RunningGateway } from "./server.js";
import { productRoutes } from "./routes.js";
import { productServiceNames } from "../services/app/product-services.js";
import { createIdentity, type Identity } from "../services/app/identity.js";
import { createStreamDecoder } from "../services/audio/index.js";
import { LiveRecognizer } from "../services/speech/live-recognition.js";
import { ModelCatalog } from "../services/speech/model-catalog.js";
import { InProcessBus } from "../services/speech/bus.js";
import { LiveSessions } from "../services/speech/live-sessions.js";
import { RedisBus } from "../services/speech/redis-bus.js";
import { ResumableStreams } from "../services/speech/resumable.js";
import { LivePersistence, type EndedLiveSession } from "../services/speech/persistence.js";
import { SpeechService } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { speechService } from "../services/speech/speech-service.js";
import { livePageRoute } from "./web/live-page.js";
import { createWebhooks, type WebhooksCapability } from "../services/app/webhooks.js";
import { createTranscriptCapabilities, type TranscriptCapabilities } from "../services/app/transcripts.js";
import { createJobsCapability, type JobsCapability } from "../services/jobs/capability.js";
import { jobHandler } from "../services/jobs/handler.js";
import { jobEvents } from "../services/jobs/job-events.js";
import { createMedia, type MediaCapability } from "../services/app/media.js";
import { Cleanup } from "../services/lifecycle/cleanup.js";
import { entities } from "../services/app/entities.js";

export { StartupError } from "../services/platform/adapters.js";

export interface Platform extends Omit<Adapters, "close" | "checks"> {
  config: Config;
  gateway: RunningGateway;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Accounts, organisations, API keys and the audit log. */
  identity: Identity;
  /** Webhook endpoints, `publish` for events, and the delivery dispatcher. */
  webhooks: WebhooksCapability;
  /** Transcripts, search, exports, usage and quotas. */
  transcripts: TranscriptCapabilities;
  /** Batch jobs; in the embedded mode (no REDIS_URL) this process also runs them. */
  jobs: JobsCapability;
  /** Uploaded media; `media.library.openForProcessing` is how a job reads a file. */
  media: MediaCapability;
  /** The scheduled lifecycle cleanup (expired exports, purged deletions, old deliveries); `run(now)` runs it once. */
  cleanup: Cleanup;
  /** Drains the gateway, then closes every adapter. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startPlatform(config: Config, logger: Logger): Promise<Platform> {
  const metrics = createGatewayMetrics();
  const adapters = await openAdapters(config, logger, { entities, registry: metrics.registry });
  let jobs: JobsCapability | undefined;
  let media: MediaCapability | undefined;
  try {
    const readiness = new Readiness(adapters.checks);
    // The live page: try live recognition from a browser at /live.
    const httpRoutes: HttpRoute[] = [livePageRoute()];
    if (adapters.blobs instanceof FsBlobStore) {
      // The largest body a presigned PUT is handed out for: a whole file up to the multipart threshold, or one part.
      const maxUploadBytes = Math.max(config.media.multipartThresholdBytes, config.media.multipartPartBytes);
      httpRoutes.push(createFsBlobHttpHandler(adapters.blobs, { maxUploadBytes, onError: (err) => logger.error({ err }, "blob request failed") }));
    }
    const identity = await createIdentity(config, { ...adapters, logger });
    // The model of a request that names none, live or batch: the configured default.
    const models = new ModelCatalog(adapters.inference, { defaultModel: config.jobs.defaultModel });
    const recognizer = new LiveRecognizer({
      inference: adapters.inference,
      models,
      createDecoder: createStreamDecoder,
      observer: {
        firstInterim: (s) => metrics.liveFirstPartial.observe(s),
        finalLatency: (s) => metrics.liveFinalLatency.observe(s),
        decode: (kind, s) => metrics.liveDecode.observe({ kind }, s),
      },
    });
    const webhooks = await createWebhooks(config, { database: adapters.database, audit: identity.audit, logger }, { registry: metrics.registry });
    const transcripts = createTranscriptCapabilities(config, adapters);
    // A live recognition that ends becomes a live_sessions row, its transcript and its usage.
    const persistence = new LivePersistence({ database: adapters.database, transcripts: transcripts.transcripts, usage: transcripts.usage, logger });
    const onEnded = (ended: EndedLiveSession) => void persistence.persist(ended);
    // Live sessions travel over Redis streams when there is Redis (any replica serves any call). They
    // hold a stream slot like StreamingRecognize (whose slot the gateway's interceptor takes).
    const streams = new ResumableStreams({ onEnded });
    const sessions = new LiveSessions({
      recognizer,
      bus: adapters.redis ? new RedisBus(adapters.redis) : new InProcessBus(),
      slots: identity.streamSlots,
      onEnded,
    });
    // With Redis, workers (`npm run worker`) run the jobs; without it, this process is the whole platform.
    jobs = createJobsCapability(
      config.jobs,
      { ...adapters, redisUrl: config.redis?.url, logger },
      { runJobs: !config.redis, hooks: jobEvents({ webhooks: webhooks.webhooks, usage: transcripts.usage }) },
    );
    const batch = jobs;
    media = createMedia(config, { ...adapters, logger }, identity.audit);
    const gateway = await startGateway({
      config,
      logger,
      metrics,
      readiness,
      authenticator: identity.authenticator,
      limits: identity.limits,
      streamSlots: identity.streamSlots,
      routes: productRoutes({
        ...identity.handlers,
        ...webhooks.handlers,
        ...transcripts.handlers,
        ...media.handlers,
        "arabicstt.v1.JobService": jobHandler(batch.jobs),
        [SpeechService.typeName]: speechService({ recognizer, catalog: models, sessions, streams, quota: transcripts.usage }),
      }),
      serviceNames: productServiceNames,
      httpRoutes,
    });
    let stopped: Promise<void> | undefined;
    const started = media;
    const cleanup = new Cleanup(adapters.database, adapters.blobs, webhooks.webhooks, config.lifecycle, logger);
    cleanup.start(config.lifecycle.intervalSeconds * 1000);
    return {
      config,
      database: adapters.database,
      blobs: adapters.blobs,
      redis: adapters.redis,
      inference: adapters.inference,
      identity,
      webhooks,
      transcripts,
      jobs: batch,
      media: started,
      cleanup,
      gateway,
      metrics,
      readiness,
      stop: () =>
        (stopped ??= (async () => {
          await gateway.drain();
          await cleanup.stop();
          await started.close();
          await batch.close();
          await webhooks.close();
          await identity.close();
          await sessions.stop();
          streams.stop();
          await adapters.close();
        })()),
    };
  } catch (err) {
    await jobs?.close();
    await media?.close();
    await adapters.close();
    throw err;
  }
}
