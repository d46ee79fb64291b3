// `npm run sidecar`: the local inference sidecar as its own process. Serves the model repository
// over the KServe v2 gRPC API on loopback by default; stops cleanly on SIGTERM/SIGINT.
//   SIDECAR_HOST        interface to listen on (127.0.0.1)
//   SIDECAR_PORT        port (8001, Triton's gRPC port)
//   MODEL_REPOSITORY    the repository Triton also reads (inference/models)
//   MODEL_WEIGHTS_DIR   installed weights, e.g. speaker_embedding/model.onnx (./data/models)
//   LOG_LEVEL           pino level (info)
import { resolve } from "node:path";
import { createLogger } from "../../services/platform/logger.js";
import { ModelConfigError } from "../repository/repository.js";
import { startSidecar } from "./server.js";

const env = process.env;
const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const level = (env.LOG_LEVEL ?? "info") as (typeof levels)[number];
const port = Number(env.SIDECAR_PORT ?? "8001");
if (!levels.includes(level) || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`config error: LOG_LEVEL must be one of ${levels.join(", ")} and SIDECAR_PORT an integer between 0 and 65535\n`);
  process.exit(1);
}
const logger = createLogger(level, undefined, "sidecar");

let sidecar;
try {
  sidecar = await startSidecar({
    host: env.SIDECAR_HOST ?? "127.0.0.1",
    port,
    modelsDir: resolve(env.MODEL_REPOSITORY ?? "inference/models"),
    weightsDir: resolve(env.MODEL_WEIGHTS_DIR ?? "./data/models"),
    logger,
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
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "sidecar shutdown failed");
        process.exit(1);
      },
    );
  });
}
