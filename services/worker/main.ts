// `npm run worker`: the batch worker process. It opens the same adapters as the gateway
// (migrations included), serves probes and metrics, and runs transcription jobs from the
// queue (BullMQ with REDIS_URL; without it, jobs this process finds queued in the database).
// SIGTERM stops taking jobs and returns the running ones to the queue for another worker.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError } from "../platform/config/config.js";
import { configFromEnvironment } from "../platform/config/environment.js";
import { createLogger } from "../platform/logger.js";
import { startTracing } from "../../inference/telemetry/tracing.js";
import { StartupError, openAdapters } from "../platform/adapters.js";
import { Readiness } from "../platform/readiness.js";
import { livenessRoute, metricsRoute, readinessRoute, routeHttp } from "../platform/probes.js";
import { composeWorker } from "../app/compose.js";
import { exposeQueueDepth } from "../jobs/queue.js";
import { entities } from "../app/entities.js";

let config;
try {
  config = configFromEnvironment();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel, undefined, "worker");
// Jobs continue the traces of the CreateJob calls that queued them (their `traceparent` travels in the job's data).
const tracing = startTracing({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName ?? "arabicstt-worker" });
if (tracing.enabled) logger.info({ endpoint: config.tracing.endpoint }, "exporting traces");
const registry = new Registry();
collectDefaultMetrics({ register: registry });
let adapters;
try {
  adapters = await openAdapters(config, logger, { entities, registry });
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  logger.fatal(err.message);
  process.stderr.write(`startup failed: ${err.message}\n`);
  process.exit(1);
}

const readiness = new Readiness(adapters.checks);
const probes = http.createServer(routeHttp([livenessRoute(), readinessRoute(readiness), metricsRoute(registry)]));
await new Promise<void>((resolve) => probes.listen(config.worker.metricsPort, config.host, resolve));
const open = adapters;
const worker = await composeWorker(config, { ...adapters, logger }, { registry });
// The worker autoscaler's signal (deploy/k8s/base/worker.yaml): the shared queue's depth on this /metrics.
exposeQueueDepth(registry, worker.jobs.queue);
logger.info({ metrics_port: (probes.address() as AddressInfo).port, concurrency: config.jobs.concurrency }, "worker started; taking jobs");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down");
    readiness.markDraining();
    probes.close();
    probes.closeAllConnections();
    worker
      .close()
      .then(() => open.close())
      .then(() => tracing.shutdown())
      .then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
