// The API process around the platform: the one read of the environment, the start, and the drain on
// SIGTERM/SIGINT. `npm start` (gateway/main.ts) runs it, and so do the test harness's replica processes
// (gateway/testing/replica-main.ts), so a test that signals a replica meets the real process's shutdown.
import { ConfigError } from "../services/platform/config/config.js";
import { configFromEnvironment } from "../services/platform/config/environment.js";
import { createLogger } from "../services/platform/logger.js";
import { startTracing } from "../inference/telemetry/tracing.js";
import { StartupError, startPlatform, type Platform, type PlatformOverrides } from "./platform.js";

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

  const logger = createLogger(config.logLevel);
  // Before the platform, so that its first RPC is traced; off (nothing registered) without an endpoint.
  const tracing = startTracing({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName ?? "arabicstt-gateway" });
  if (tracing.enabled) logger.info({ endpoint: config.tracing.endpoint }, "exporting traces");
  let platform;
  try {
    platform = await startPlatform(config, logger, options.overrides);
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
}
