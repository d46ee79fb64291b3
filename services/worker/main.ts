// `npm run worker`: the batch worker process. It opens the same adapters as the gateway
// (migrations included), serves probes and metrics, and runs transcription jobs from the
// queue (BullMQ with REDIS_URL; without it, jobs this process finds queued in the database).
// SIGTERM stops taking jobs and returns the running ones to the queue for another worker.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError, loadConfig } from "../platform/config/config.js";
import { createLogger } from "../platform/logger.js";
import { StartupError, openAdapters } from "../platform/adapters.js";
import { Readiness } from "../platform/readiness.js";
import { livenessRoute, metricsRoute, readinessRoute, routeHttp } from "../platform/probes.js";
import { createJobsCapability } from "../jobs/capability.js";
import { jobEvents } from "../jobs/job-events.js";
import { AuditLog } from "../identity/audit/audit-log.js";
import { Usage } from "../usage/usage.js";
import { openWebhooks } from "../webhooks/index.js";
import { entities } from "../app/entities.js";

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel, undefined, "worker");
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
// Finished jobs go to webhooks (published here, sent by the gateways' dispatchers) and usage.
const { webhooks, close: closeWebhooks } = await openWebhooks(config, { database: adapters.database, audit: new AuditLog(adapters.database), logger }, { registry, dispatch: false });
const usage = new Usage(adapters.database, config.usage);
const jobs = createJobsCapability(
  config.jobs,
  { ...adapters, redisUrl: config.redis?.url, logger },
  { runJobs: true, hooks: jobEvents({ webhooks, usage }) },
);
logger.info({ metrics_port: (probes.address() as AddressInfo).port, concurrency: config.jobs.concurrency }, "worker started; taking jobs");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down");
    readiness.markDraining();
    probes.close();
    probes.closeAllConnections();
    jobs
      .close()
      .then(() => closeWebhooks())
      .then(() => open.close())
      .then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
