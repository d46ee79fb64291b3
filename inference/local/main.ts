// `npm run sidecar`: the local inference sidecar as its own process. Serves the model repository
// over the KServe v2 gRPC API on loopback by default; stops cleanly on SIGTERM/SIGINT. Its settings
// come from the environment through config.ts, which lists them.
import { pino } from "pino";
import { ModelConfigError } from "../repository/repository.js";
import { loadSidecarConfig, SidecarConfigError, type LogLevel, type SidecarConfig } from "./config.js";
import { startSidecar } from "./server.js";
import { startTracing } from "../telemetry/tracing.js";
import { traceLogFields } from "../telemetry/log-fields.js";

let config: SidecarConfig;
try {
  config = loadSidecarConfig();
} catch (err) {
  if (!(err instanceof SidecarConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const logger = createLogger(config.logLevel);
// Before the server: its ModelInfer spans continue the traces callers send in gRPC metadata.
const tracing = startTracing(config.tracing);
if (tracing.enabled) logger.info({ endpoint: config.tracing.endpoint, service_name: config.tracing.serviceName }, "exporting traces");

let sidecar;
try {
  sidecar = await startSidecar({
    host: config.host,
    port: config.port,
    modelsDir: config.modelsDir,
    weightsDir: config.weightsDir,
    logger,
    modelSettings: { whisper: config.whisper },
  });
} catch (err) {
  if (!(err instanceof ModelConfigError) && !(err instanceof Error && /bind|EADDRINUSE|No address added/i.test(err.message))) throw err;
  logger.fatal({ err }, "sidecar failed to start");
  process.stderr.write(`sidecar failed to start: ${err.message}\n`);
  process.exit(1);
}

const running = sidecar;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "sidecar shutting down");
    running
      .close()
      .then(() => tracing.shutdown())
      .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "sidecar shutdown failed");
        process.exit(1);
      },
    );
  });
}

/** JSON lines to stdout in the platform's log format (as services/platform/logger.ts writes them). */
function createLogger(level: LogLevel) {
  return pino({
    level,
    base: { service: "arabicstt-sidecar" },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceLogFields,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.secret"], censor: "[redacted]" },
  });
}
