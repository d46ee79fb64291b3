// The one read of the process environment for the platform's processes (the gateway's and the worker's
// `main`). Everything else takes the validated Config object it produces.
import { loadConfig, type Config } from "./config.js";

/** The config from this process's environment; throws ConfigError naming the variable when one is wrong. */
export function configFromEnvironment(): Config {
  return loadConfig(process.env);
}
