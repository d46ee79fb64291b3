// A gateway on loopback with ephemeral ports, for tests: the real server, interceptors and
// listeners; the caller chooses the routes and the dependency checks.
import type { ConnectRouter } from "@connectrpc/connect";
import { loadConfig } from "../../services/platform/config/config.js";
import type { Logger } from "../../services/platform/logger.js";
import { capturedLogger } from "./logs.js";
import { createGatewayMetrics, type GatewayMetrics } from "../interceptors/metrics.js";
import { Readiness, type DependencyCheck } from "../../services/platform/readiness.js";
import { startGateway, type RunningGateway } from "../server.js";
import { productRoutes } from "../routes.js";
import { productServiceNames } from "../../services/app/product-services.js";
import type { HttpRoute } from "../../services/platform/probes.js";
import type { Authenticator } from "../../services/identity/model/principal.js";
import type { RateLimits } from "../../services/platform/limits/rate-limits.js";
import type { StreamSlots } from "../../services/platform/limits/stream-slots.js";
import { UnauthenticatedError } from "../../services/platform/errors/errors.js";
import type { TestIdentity } from "./test-identity.js";

export interface TestGateway extends RunningGateway {
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  logger: Logger;
}

const noCredentialIsValid: Authenticator = {
  authenticate: () => Promise.reject(new UnauthenticatedError("this test gateway has no identity: no credential is valid")),
};

export async function startTestGateway(options: {
  env?: Record<string, string>;
  routes?: (router: ConnectRouter) => void;
  checks?: DependencyCheck[];
  httpRoutes?: HttpRoute[];
  healthWatchIntervalMs?: number;
  /**
   * The real identity whose credentials (access tokens, API keys made through it) the gateway accepts. Left
   * out, no credential is valid: the suites that leave it out send none (health, probes, transport faults),
   * and a database opened for an authenticator nobody calls would only slow them down.
   */
  identity?: Pick<TestIdentity, "identity">;
  limits?: RateLimits;
  streamSlots?: StreamSlots;
} = {}): Promise<TestGateway> {
  const config = loadConfig({ HOST: "127.0.0.1", GRPC_PORT: "0", HTTP_PORT: "0", LOG_LEVEL: "debug", ...options.env });
  const { logs, logger } = capturedLogger(config.logLevel);
  const metrics = createGatewayMetrics();
  const readiness = new Readiness(options.checks ?? [], { timeoutMs: 500, cacheMs: 0 });
  const gateway = await startGateway({
    config,
    logger,
    metrics,
    readiness,
    routes: options.routes ?? productRoutes({}),
    serviceNames: productServiceNames,
    httpRoutes: options.httpRoutes,
    healthWatchIntervalMs: options.healthWatchIntervalMs,
    authenticator: options.identity?.identity.authenticator ?? noCredentialIsValid,
    limits: options.limits,
    streamSlots: options.streamSlots,
  });
  return { ...gateway, metrics, readiness, logs, logger };
}
