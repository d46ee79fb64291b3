// The composition root of the API process: the adapters from the one config object, the capabilities
// built on them (services/app/compose.ts), the gateway in front, and the way to take it all down again.
// `npm start` (gateway/main.ts) and the test harnesses (gateway/testing/platform.ts) both start it here.
import type { Config } from "../services/platform/config/config.js";
import { openAdapters, type AdapterOptions, type Adapters } from "../services/platform/adapters.js";
import { Readiness, type ReadinessOptions } from "../services/platform/readiness.js";
import type { HttpRoute, MetricsExposition } from "../services/platform/probes.js";
import { FsBlobStore, S3BlobStore, createFsBlobHttpHandler } from "../services/platform/blobs/index.js";
import type { Logger } from "../services/platform/logger.js";
import { entities } from "../services/app/entities.js";
import { composeApi, type ApiServices, type CompositionOverrides } from "../services/app/compose.js";
import { productServiceNames } from "../services/app/product-services.js";
import { createGatewayMetrics, liveStreamObserver, type GatewayMetrics } from "./interceptors/metrics.js";
import { startGateway, type RunningGateway } from "./server.js";
import { productRoutes } from "./routes.js";
import { livePageRoute } from "./web/live-page.js";
import { stripeWebhookRoute } from "./http/stripe-webhook.js";
import { openAiRoutes } from "./http/openai/routes.js";
import { platformClients, type PlatformClients } from "./http/platform-client.js";
import { twilioMediaStreams, twilioMetrics } from "./http/twilio/media-streams.js";
import { audioSocketMetrics, startAudioSocket, type AudioSocketListener } from "./http/audiosocket/audiosocket.js";
import { audioHookMetrics, audioHookServer } from "./http/audiohook/audiohook.js";
import { consolePageRoute } from "./web/console-page.js";

export { StartupError } from "../services/platform/adapters.js";

export interface Platform extends Omit<Adapters, "close" | "checks">, Omit<ApiServices, "close" | "drain"> {
  config: Config;
  gateway: RunningGateway;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Asterisk AudioSocket's TCP listener, when AUDIOSOCKET_PORT is set. */
  audioSocket?: AudioSocketListener;
  /** Drains the gateway, then closes every capability and adapter. Safe to call twice. */
  stop(): Promise<void>;
}

/** What tests change in how the platform starts; `npm start` leaves all of it out. */
export interface PlatformOverrides extends CompositionOverrides {
  /** Adapters the caller opened (and closes) itself. */
  adapters?: AdapterOptions["provided"];
  readiness?: ReadinessOptions;
  /** How often grpc.health.v1 Watch re-checks dependencies. */
  healthWatchIntervalMs?: number;
}

/** How the process around the platform serves it (gateway/process.ts); a lone gateway leaves it out. */
export interface PlatformProcess {
  /** What /metrics answers with, given the platform's own registry (a cluster worker's: the whole box's). */
  metricsExposition?: (registry: GatewayMetrics["registry"]) => MetricsExposition;
}

export async function startPlatform(config: Config, logger: Logger, overrides: PlatformOverrides = {}, host: PlatformProcess = {}): Promise<Platform> {
  const metrics = createGatewayMetrics();
  const adapters = await openAdapters(config, logger, { entities, registry: metrics.registry, provided: overrides.adapters });
  let services: ApiServices | undefined;
  let audioSocket: AudioSocketListener | undefined;
  try {
    services = await composeApi(config, { ...adapters, logger }, {
      registry: metrics.registry,
      liveObserver: {
        firstInterim: (s) => metrics.liveFirstPartial.observe(s),
        finalLatency: (s) => metrics.liveFinalLatency.observe(s),
        decode: (kind, s) => metrics.liveDecode.observe({ kind }, s),
      },
      streamObserver: liveStreamObserver(metrics),
      overrides,
    });
    const readiness = new Readiness(adapters.checks, overrides.readiness);
    // The HTTP adapters (OpenAI's audio API, Twilio media streams) call the product's RPCs in process.
    const clients = platformClients({
      handlers: services.handlers,
      authenticator: services.identity.authenticator,
      limits: services.identity.limits,
      audit: services.identity.audit,
      logger,
      maxMessageBytes: config.limits.maxMessageBytes,
      unaryDeadlineMs: config.limits.unaryDeadlineMs,
    });
    // Each telephony adapter's metrics exist whether or not it is turned on, so /metrics always has what the dashboards show.
    const telephony = { clients, authenticator: services.identity.authenticator, webhooks: services.webhooks.webhooks, logger };
    const twilio = twilioMediaStreams({ ...telephony, metrics: twilioMetrics(metrics.registry) });
    const audioSocketCalls = audioSocketMetrics(metrics.registry);
    audioSocket = config.audioSocket ? await startAudioSocket({ ...telephony, metrics: audioSocketCalls, ...config.audioSocket }) : undefined;
    const audioHookCalls = audioHookMetrics(metrics.registry);
    const audioHook = config.audioHook ? audioHookServer({ ...telephony, metrics: audioHookCalls, clientSecret: config.audioHook.clientSecret }) : undefined;
    const gateway = await startGateway({
      config,
      logger,
      metrics,
      readiness,
      authenticator: services.identity.authenticator,
      limits: services.identity.limits,
      audit: services.identity.audit,
      streamSlots: services.identity.streamSlots,
      routes: productRoutes(services.handlers),
      serviceNames: productServiceNames,
      httpRoutes: [...httpRoutes(config, adapters, logger, clients, metrics), stripeWebhookRoute(services.billing, logger)],
      upgradeRoutes: [twilio.route, ...(audioHook ? [audioHook.route] : [])],
      healthWatchIntervalMs: overrides.healthWatchIntervalMs,
      metricsExposition: host.metricsExposition?.(metrics.registry),
    });
    const { close: closeServices, drain: drainServices, ...capabilities } = services;
    let stopped: Promise<void> | undefined;
    return {
      config,
      database: adapters.database,
      blobs: adapters.blobs,
      redis: adapters.redis,
      inference: adapters.inference,
      ...capabilities,
      gateway,
      metrics,
      readiness,
      audioSocket,
      stop: () =>
        (stopped ??= (async () => {
          // Live streams finalise and hand their sessions on while the gateway refuses new calls.
          await Promise.all([gateway.drain(), drainServices(), twilio.close(), audioSocket?.close(), audioHook?.close()]);
          await closeServices();
          await adapters.close();
        })()),
    };
  } catch (err) {
    await audioSocket?.close();
    await services?.close();
    await adapters.close();
    throw err;
  }
}

/**
 * The HTTP/1.1 listener's own routes: the console at `/`, the live page, OpenAI's audio API over the product's RPCs, and the
 * filesystem store's signed URLs when it is the store.
 */
/** The origin the blob store's presigned URLs point at (the console uploads to it from the browser). */
function storageOrigin(config: Config, adapters: Adapters): string {
  if (adapters.blobs instanceof S3BlobStore) return adapters.blobs.browserOrigin;
  return new URL(config.storage.kind === "s3" ? (config.storage.publicEndpoint ?? config.storage.endpoint) : config.storage.publicBaseUrl).origin;
}

function httpRoutes(config: Config, adapters: Adapters, logger: Logger, clients: PlatformClients, metrics: GatewayMetrics): HttpRoute[] {
  const routes: HttpRoute[] = [livePageRoute(), consolePageRoute({ connectSources: [storageOrigin(config, adapters)] }), openAiRoutes({ clients, logger, registry: metrics.registry, maxFileBytes: config.media.maxUploadBytes })];
  if (adapters.blobs instanceof FsBlobStore) {
    // The largest body a presigned PUT is handed out for: a whole file up to the multipart threshold, or one part.
    const maxUploadBytes = Math.max(config.media.multipartThresholdBytes, config.media.multipartPartBytes);
    routes.push(createFsBlobHttpHandler(adapters.blobs, { maxUploadBytes, onError: (err) => logger.error({ err }, "blob request failed") }));
  }
  return routes;
}
