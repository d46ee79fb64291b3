// The inference adapter of a process: a client of Triton when TRITON_URL is set, else of the local
// sidecar, which this process then starts itself on a loopback port. Either way services reach
// models through the same client and the same KServe v2 protocol (DESIGN.md, decision 2).
import path from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { InferenceConfig } from "./config/config.js";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { startSidecar } from "../../inference/local/server.js";
import type { DependencyCheck } from "./readiness.js";

export interface InferenceAdapter {
  client: InferenceClient;
  /** Where models run, for logs: the Triton addresses or the sidecar's loopback address. */
  target: string;
  /** Ready when at least one server answers ServerReady. */
  check: DependencyCheck;
  close(): Promise<void>;
}

export async function openInference(config: InferenceConfig, logger: Logger, registry?: Registry): Promise<InferenceAdapter> {
  if (config.tritonUrls.length > 0) {
    // Triton may start after us (it loads models for minutes): /readyz reports it until then.
    const client = createInferenceClient({ addresses: config.tritonUrls, deadlineMs: config.deadlineMs, registry, logger });
    return {
      client,
      target: config.tritonUrls.join(","),
      check: readyCheck(client),
      close: async () => client.close(),
    };
  }
  const sidecar = await startSidecar({
    host: "127.0.0.1",
    port: config.sidecarPort,
    modelsDir: path.resolve(config.repositoryDir),
    weightsDir: path.resolve(config.weightsDir),
    logger: logger.child({ component: "sidecar" }),
  });
  const address = `127.0.0.1:${sidecar.port}`;
  const client = createInferenceClient({ addresses: [address], deadlineMs: config.deadlineMs, registry, logger });
  return {
    client,
    target: `local sidecar at ${address}`,
    check: readyCheck(client),
    close: async () => {
      client.close();
      await sidecar.close();
    },
  };
}

/** Ready when at least one of the client's servers answers ServerReady. */
export function readyCheck(client: InferenceClient): DependencyCheck {
  return {
    name: "inference",
    check: async () => {
      const health = await client.addressHealth({ deadlineMs: 1_500 });
      if (health.some((h) => h.ready)) return;
      throw new Error(health.map((h) => `${h.address}: ${h.error ?? "not ready"}`).join("; "));
    },
  };
}
