// `npm start`: the API process. Reads the environment once, starts the platform, and
// drains on SIGTERM/SIGINT.
import { ConfigError } from "../services/platform/config/config.js";
import { configFromEnvironment } from "../services/platform/config/environment.js";
import { createLogger } from "../services/platform/logger.js";
import { StartupError, startPlatform } from "./platform.js";

let config;
try {
  config = configFromEnvironment();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
let platform;
try {
  platform = await startPlatform(config, logger);
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
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
