// The API process around the platform: the one read of the environment, the start, and the drain on
// SIGTERM/SIGINT. `npm start` (gateway/main.ts) runs it, and so do the test harness's replica processes
// (gateway/testing/replica-main.ts), so a test that signals a replica meets the real process's shutdown.
// With GATEWAY_PROCESSES above 1 the process `npm start` runs is a primary that only supervises, and each
// worker it forks runs this same entry as a gateway (gateway/cluster.ts).
import { ConfigError, type Config } from "../services/platform/config/config.js";
import { configFromEnvironment } from "../services/platform/config/environment.js";
import { createLogger } from "../services/platform/logger.js";
import { startTracing } from "../inference/telemetry/tracing.js";
import { StartupError, startPlatform, type Platform, type PlatformOverrides } from "./platform.js";
import { announceStarted, clusterMetricsExposition, freeLoopbackPort, isGatewayWorker, superviseGatewayProcesses } from "./cluster.js";

export interface ApiProcessOptions {
  /** What a test changes in how the platform starts; `npm start` leaves it out. */
  overrides?: PlatformOverrides;
  /** Called once the platform is up and listening. */
  onStarted?: (platform: Platform) => void;
}

/**
 * Starts the platform from this process's environment and stops it on the first SIGTERM or SIGINT
 * (exit 0 once drained, 1 if the shutdown fails); a second signal exits at once. A bad setting or a
 * dependency down at start prints one line to stderr and exits 1.
 */
export async function runApiProcess(options: ApiProcessOptions = {}): Promise<void> {
  let config;
  try {
    config = configFromEnvironment();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }

  if (config.gatewayProcesses > 1 && !isGatewayWorker()) return runPrimary(config);
  const worker = isGatewayWorker();
  // Each line says which of the box's processes wrote it.
  const logger = worker ? createLogger(config.logLevel).child({ pid: process.pid }) : createLogger(config.logLevel);
  if (worker && config.inference.tritonUrls.length === 0) {
    config = { ...config, inference: { ...config.inference, sidecarPort: await freeLoopbackPort() } };
  }
  // Before the platform, so that its first RPC is traced; off (nothing registered) without an endpoint.
  const tracing = startTracing({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName ?? "arabicstt-gateway" });
  if (tracing.enabled) logger.info({ endpoint: config.tracing.endpoint }, "exporting traces");
  let platform;
  try {
    platform = await startPlatform(config, logger, options.overrides, worker ? { metricsExposition: clusterMetricsExposition } : {});
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    logger.fatal(err.message);
    process.stderr.write(`startup failed: ${err.message}\n`);
    process.exit(1);
  }

  const running = platform;
  let signals = 0;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (++signals > 1) {
        // A Ctrl-C reaches the primary and every worker, and the primary passes it on as well: one stop, two
        // signals. The primary is the one that answers a second signal, by killing its workers.
        if (worker) return;
        logger.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      logger.info({ signal }, "shutting down");
      running
        .stop()
        // The spans of the drain, and any still batched, leave before the process does.
        .then(() => tracing.shutdown())
        .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
  options.onStarted?.(running);
  if (worker) announceStarted({ grpcPort: running.gateway.grpcPort, httpPort: running.gateway.httpPort });
}

/**
 * The primary of GATEWAY_PROCESSES workers: forks them, restarts one that dies, and on the first SIGTERM or SIGINT
 * passes it on and exits once every worker has (0 when all drained cleanly); a second signal kills them and exits 1.
 * A worker that cannot start makes the whole start fail (exit 1), as a lone gateway's does.
 */
function runPrimary(config: Config): void {
  const logger = createLogger(config.logLevel).child({ pid: process.pid, role: "primary" });
  logger.info({ processes: config.gatewayProcesses }, "starting gateway processes");
  const primary = superviseGatewayProcesses({ processes: config.gatewayProcesses, logger });
  let signals = 0;
  const stop = (signal: NodeJS.Signals, code?: number) =>
    void primary.stop(signal).then((drained) => process.exit(code ?? drained));
  primary.started.catch(() => stop("SIGTERM", 1));
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (++signals > 1) {
        logger.warn({ signal }, "second signal: killing the gateway processes");
        primary.kill();
        process.exit(1);
      }
      logger.info({ signal }, "shutting down");
      stop(signal);
    });
  }
}
