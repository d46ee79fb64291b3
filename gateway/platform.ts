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
import { createIdentity, type Identity } from "./identity.js";
import { createMedia, type MediaCapability } from "./media.js";

export { StartupError } from "../services/platform/adapters.js";

export interface Platform extends Omit<Adapters, "close" | "checks"> {
  config: Config;
  gateway: RunningGateway;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Accounts, organisations, API keys and the audit log. */
  identity: Identity;
  /** Uploaded media; `media.library.openForProcessing` is how a job reads a file. */
  media: MediaCapability;
  /** Drains the gateway, then closes every adapter. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startPlatform(config: Config, logger: Logger): Promise<Platform> {
  const metrics = createGatewayMetrics();
  const adapters = await openAdapters(config, logger, { registry: metrics.registry });
  let media: MediaCapability | undefined;
  try {
    const readiness = new Readiness(adapters.checks);
    const httpRoutes: HttpRoute[] = [];
    if (adapters.blobs instanceof FsBlobStore) {
      // The largest body a presigned PUT is handed out for: a whole file up to the multipart threshold, or one part.
      const maxUploadBytes = Math.max(config.media.multipartThresholdBytes, config.media.multipartPartBytes);
      httpRoutes.push(createFsBlobHttpHandler(adapters.blobs, { maxUploadBytes, onError: (err) => logger.error({ err }, "blob request failed") }));
    }
    const identity = await createIdentity(config, { ...adapters, logger });
    media = createMedia(config, { ...adapters, logger }, identity.audit);
    const gateway = await startGateway({
      config,
      logger,
      metrics,
      readiness,
      authenticator: identity.authenticator,
      limits: identity.limits,
      streamSlots: identity.streamSlots,
      routes: productRoutes({ ...identity.handlers, ...media.handlers }),
      serviceNames: productServiceNames,
      httpRoutes,
    });
    let stopped: Promise<void> | undefined;
    const started = media;
    return {
      config,
      database: adapters.database,
      blobs: adapters.blobs,
      redis: adapters.redis,
      inference: adapters.inference,
      identity,
      media: started,
      gateway,
      metrics,
      readiness,
      stop: () =>
        (stopped ??= (async () => {
          await gateway.drain();
          await started.close();
          await identity.close();
          await adapters.close();
        })()),
    };
  } catch (err) {
    await media?.close();
    await adapters.close();
    throw err;
  }
}
