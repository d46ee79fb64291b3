// The local sidecar: the KServe v2 gRPC API that Triton serves, on CPU, over the same model
// repository. Services reach models through it exactly as they reach Triton, so the path tested on
// a laptop is the path that runs in production (DESIGN.md, decision 2).
//
// Requests are checked against each model's config.pbtxt as Triton checks them; each model runs at
// most as many requests at once as its instance groups have instances, the rest wait in a bounded
// queue. Models that compute in JavaScript or onnxruntime run each instance in a worker thread, so
// the instances run in parallel and the server's own thread only moves requests. A model that cannot load (no weights, no runtime) stays listed and answers UNAVAILABLE
// with its reason, which says how to install it. No bad request stops the server.
import { readFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../logger.js";
import { loadRepository } from "../repository/repository.js";
import { inferenceHandlers } from "./handlers.js";
import { localModelFactories, THREADED_MODELS, type LocalModelFactory, type LocalModelSettings } from "./models/index.js";
import { serveRepository, type ServedModel } from "./served-model.js";
import { inferenceServiceDefinition } from "./wire.js";

/**
 * 15 minutes of 16 kHz audio (55 MiB of FP32): below the inference client's default 64 MiB message
 * limit, so a request the client lets through is one the sidecar accepts. Callers cut longer audio.
 */
export const DEFAULT_MAX_INPUT_ELEMENTS = 15 * 60 * 16000;

export interface SidecarOptions {
  /** The model repository (MODEL_REPOSITORY). */
  modelsDir: string;
  /** Installed weights (MODEL_WEIGHTS_DIR). */
  weightsDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** Largest element count of one input tensor; larger ones are refused with INVALID_ARGUMENT. */
  maxInputElements?: number;
  /** Requests that may wait for a busy model before more are refused with UNAVAILABLE. */
  maxQueuedPerModel?: number;
  /**
   * Model implementations by name. Left out: the sidecar's own (localModelFactories with
   * `modelSettings`), and those in THREADED_MODELS run in worker threads, one per instance.
   * Given: every model runs in the server's thread (factories cannot cross to other threads).
   */
  models?: ReadonlyMap<string, LocalModelFactory>;
  /** Settings of the sidecar's own models, when `models` is left out. */
  modelSettings?: LocalModelSettings;
}

export interface Sidecar {
  port: number;
  /** Stops accepting calls, lets running ones finish (briefly), and frees the models. */
  close(): Promise<void>;
}

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const { logger } = options;
  const maxElements = options.maxInputElements ?? DEFAULT_MAX_INPUT_ELEMENTS;
  const repository = await loadRepository(options.modelsDir);
  const threading = options.models ? undefined : { settings: options.modelSettings ?? {}, models: THREADED_MODELS };
  const factories = options.models ?? localModelFactories(options.modelSettings);
  const served = serveRepository(repository, factories, options.weightsDir, logger, threading);
  const server = new grpc.Server({
    // Room for the largest tensor the limit allows, with the rest of the message around it.
    "grpc.max_receive_message_length": Math.min(maxElements * 4 + 4 * 1024 * 1024, 2 ** 31 - 1),
    "grpc.max_send_message_length": -1,
  });
  server.addService(
    inferenceServiceDefinition(),
    inferenceHandlers(served, { maxElements, maxQueued: options.maxQueuedPerModel ?? 256, version: await packageVersion(), logger }),
  );

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  logger.info({ host: options.host, port, repository: options.modelsDir, models: [...served.keys()] }, "sidecar listening");
  await Promise.all([...served.values()].map((m) => m.load(logger)));
  for (const model of served.values()) {
    const { state, reason } = model.readiness();
    logger.info({ model: model.entry.name, state, reason }, state === "READY" ? "model ready" : "model not ready");
  }

  let closed: Promise<void> | undefined;
  return { port, close: () => (closed ??= shutDown(server, served, logger)) };
}

/** Stops accepting calls, lets running ones finish for up to 2 s, then frees the models. */
async function shutDown(server: grpc.Server, served: ReadonlyMap<string, ServedModel>, logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
  await Promise.all([...served.values()].map((m) => m.model?.unload().catch((err: unknown) => logger.warn({ err, model: m.entry.name }, "unload failed"))));
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
