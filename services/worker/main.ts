// `npm run worker`: the batch worker process. Today it opens the same adapters as the
// gateway (migrations included) and serves probes and metrics, so deployments and the
// compose stack run it as they will; the job pipeline that consumes the queue is the
// batch-transcription issue's to build, and until then this process takes no jobs.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError, loadConfig } from "../config/config.js";
import { createLogger } from "../platform/logger.js";
import { StartupError, openAdapters } from "../platform/adapters.js";
import { Readiness } from "../platform/readiness.js";
import { livenessRoute, metricsRoute, readinessRoute, routeHttp } from "../platform/probes.js";

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
  adapters = await openAdapters(config, logger, { registry });
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  logger.fatal(err.message);
  process.stderr.write(`startup failed: ${err.message}\n`);
  process.exit(1);
}

const readiness = new Readiness(adapters.checks);
const probes = http.createServer(routeHttp([livenessRoute(), readinessRoute(readiness), metricsRoute(registry)]));
await new Promise<void>((resolve) => probes.listen(config.worker.metricsPort, config.host, resolve));
logger.info(
  { metrics_port: (probes.address() as AddressInfo).port },
  "worker started; no job pipeline is built yet, so it consumes no jobs",
);

const open = adapters;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down");
    readiness.markDraining();
    probes.close();
    probes.closeAllConnections();
    open.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
