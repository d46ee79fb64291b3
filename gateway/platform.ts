// The composition root of the API process: the adapters from the one config object, the
// gateway in front of them, and the way to take it all down again.
import type { Config } from "../services/config/config.js";
import { openAdapters, type Adapters } from "../services/platform/adapters.js";
import { Readiness } from "../services/platform/readiness.js";
import type { HttpRoute } from "../services/platform/probes.js";
import { FsBlobStore, createFsBlobHttpHandler } from "../services/storage/index.js";
import type { Logger } from "../services/platform/logger.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import { startGateway, type RunningGateway } from "./server.js";
import { productRoutes, productServiceNames } from "./routes.js";
import { createStreamDecoder } from "../services/audio/index.js";
import { LiveRecognizer } from "../services/live-sessions/live-recognition.js";
import { ModelCatalog } from "../services/live-sessions/model-catalog.js";
import { InProcessBus } from "../services/live-sessions/bus.js";
import { LiveSessions } from "../services/live-sessions/live-sessions.js";
import { RedisBus } from "../services/live-sessions/redis-bus.js";
import { ResumableStreams } from "../services/live-sessions/resumable.js";
import { SpeechService } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { speechService } from "./speech/speech-service.js";
import { livePageRoute } from "./speech/web/live-page.js";

export { StartupError } from "../services/platform/adapters.js";

export interface Platform extends Omit<Adapters, "close" | "checks"> {
  config: Config;
  gateway: RunningGateway;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Drains the gateway, then closes every adapter. Safe to call twice. */
  stop(): Promise<void>;
}

/** Largest body a signed PUT to the filesystem store accepts (the S3 limit per PUT is 5 GiB). */
const FS_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

export async function startPlatform(config: Config, logger: Logger): Promise<Platform> {
  const metrics = createGatewayMetrics();
  const adapters = await openAdapters(config, logger, { registry: metrics.registry });
  try {
    const readiness = new Readiness(adapters.checks);
    // The live page: try live recognition from a browser at /live.
    const httpRoutes: HttpRoute[] = [livePageRoute()];
    if (adapters.blobs instanceof FsBlobStore) {
      httpRoutes.push(createFsBlobHttpHandler(adapters.blobs, { maxUploadBytes: FS_MAX_UPLOAD_BYTES }));
    }
    const recognizer = new LiveRecognizer({
      inference: adapters.inference,
      createDecoder: createStreamDecoder,
      observer: {
        firstInterim: (s) => metrics.liveFirstPartial.observe(s),
        finalLatency: (s) => metrics.liveFinalLatency.observe(s),
        decode: (kind, s) => metrics.liveDecode.observe({ kind }, s),
      },
    });
    // Live sessions travel over Redis streams when there is Redis (any replica serves any call).
    const streams = new ResumableStreams();
    const sessions = new LiveSessions({ recognizer, bus: adapters.redis ? new RedisBus(adapters.redis) : new InProcessBus() });
    const gateway = await startGateway({
      config,
      logger,
      metrics,
      readiness,
      routes: productRoutes({ [SpeechService.typeName]: speechService({ recognizer, catalog: new ModelCatalog(adapters.inference), sessions, streams }) }),
      serviceNames: productServiceNames,
      httpRoutes,
    });
    let stopped: Promise<void> | undefined;
    return {
      config,
      database: adapters.database,
      blobs: adapters.blobs,
      redis: adapters.redis,
      inference: adapters.inference,
      gateway,
      metrics,
      readiness,
      stop: () =>
        (stopped ??= (async () => {
          await gateway.drain();
          await sessions.stop();
          streams.stop();
          await adapters.close();
        })()),
    };
  } catch (err) {
    await adapters.close();
    throw err;
  }
}
