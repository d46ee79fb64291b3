// The local sidecar: the KServe v2 gRPC API that Triton serves, on CPU, over the same model
// repository. Services reach models through it exactly as they reach Triton, so the path tested on
// a laptop is the path that runs in production (DESIGN.md, decision 2).
//
// Requests are checked against each model's config.pbtxt as Triton checks them; each model runs at
// most as many requests at once as its instance groups have instances, the rest wait in a bounded
// queue. A model that cannot load (no weights, no runtime) stays listed and answers UNAVAILABLE
// with its reason, which says how to install it. No bad request stops the server.
import { readFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { create } from "@bufbuild/protobuf";
import { ModelConfigResponseSchema } from "../../proto/gen/inference/grpc_service_pb.js";
import { ResourceExhaustedError, UnavailableError } from "../../services/platform/errors/errors.js";
import { loadRepository, type RepositoryModel } from "../repository/repository.js";
import { kserveDatatype, wireShape } from "../repository/signature.js";
import { InferenceInputError, type LocalModel, type ModelReadiness } from "./model.js";
import { localModels, type LocalModelFactory } from "./models/index.js";
import { RequestError, checkInferRequest, encodeOutputs, isSupportedDatatype } from "./tensors.js";
import {
  inferenceServiceDefinition,
  type ModelInferRequestMessage,
  type ModelInferResponseWire,
  type ModelRequestMessage,
  type RepositoryIndexRequestMessage,
} from "./wire.js";

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
  /** Model implementations by name; the sidecar's own by default. */
  models?: ReadonlyMap<string, LocalModelFactory>;
}

export interface Sidecar {
  port: number;
  /** Stops accepting calls, lets running ones finish (briefly), and frees the models. */
  close(): Promise<void>;
}

type State = "LOADING" | "READY" | "UNAVAILABLE";

/** One repository model as the sidecar serves it. */
class ServedModel {
  private loading = true;
  private loadError?: string;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  readonly instances: number;

  constructor(
    readonly entry: RepositoryModel,
    readonly model: LocalModel | undefined,
    private readonly unavailableReason: string | undefined,
  ) {
    const counts = entry.config.instanceGroup.map((g) => Math.max(1, g.count));
    this.instances = counts.length === 0 ? 1 : counts.reduce((a, b) => a + b, 0);
  }

  async load(logger: Logger): Promise<void> {
    try {
      if (this.model) await this.model.load();
    } catch (err) {
      this.loadError = `failed to load: ${(err as Error).message}`;
      logger.error({ err, model: this.entry.name }, "model failed to load");
    } finally {
      this.loading = false;
    }
  }

  readiness(): ModelReadiness & { state: State } {
    if (this.loading) return { state: "LOADING", ready: false, reason: "loading" };
    const reason = this.unavailableReason ?? this.loadError;
    if (reason !== undefined || !this.model) return { state: "UNAVAILABLE", ready: false, reason: reason ?? "no implementation" };
    const readiness = this.model.readiness();
    return { ...readiness, state: readiness.ready ? "READY" : "UNAVAILABLE" };
  }

  /** Runs `work` when an instance is free; refuses when too many requests already wait. */
  async withInstance<T>(maxQueued: number, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (this.running >= this.instances) {
      if (this.waiting.length >= maxQueued) {
        throw new RequestError(grpc.status.UNAVAILABLE, `model "${this.entry.name}" is busy: ${this.waiting.length} requests are already waiting`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      if (signal.aborted) throw new RequestError(grpc.status.CANCELLED, "the call was cancelled while it waited");
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const { logger } = options;
  const maxElements = options.maxInputElements ?? DEFAULT_MAX_INPUT_ELEMENTS;
  const maxQueued = options.maxQueuedPerModel ?? 256;
  const factories = options.models ?? localModels;
  const repository = await loadRepository(options.modelsDir);
  const version = await packageVersion();

  const served = new Map<string, ServedModel>();
  for (const entry of repository) {
    const factory = factories.get(entry.name);
    const unsupported = [...entry.config.input, ...entry.config.output].find((t) => !isSupportedDatatype(kserveDatatype(t.dataType)));
    let reason: string | undefined;
    if (!factory) reason = `the local sidecar has no implementation of "${entry.name}"; serve it from Triton (TRITON_URL)`;
    else if (unsupported) reason = `the local sidecar cannot carry tensor "${unsupported.name}" of datatype ${kserveDatatype(unsupported.dataType)}`;
    const model = reason === undefined && factory ? factory(entry.config, { weightsDir: options.weightsDir, logger: logger.child({ model: entry.name }) }) : undefined;
    served.set(entry.name, new ServedModel(entry, model, reason));
  }

  const lookup = (name: string, requestedVersion: string): ServedModel => {
    const model = served.get(name);
    if (!model) throw new RequestError(grpc.status.NOT_FOUND, `unknown model "${name}"; the repository has ${[...served.keys()].join(", ")}`);
    if (requestedVersion !== "" && !model.entry.versions.includes(requestedVersion)) {
      throw new RequestError(grpc.status.NOT_FOUND, `model "${name}" has no version "${requestedVersion}"; it serves ${model.entry.versions.join(", ")}`);
    }
    return model;
  };

  // A handler returns its response or throws; RequestErrors go to the caller as they are, anything
  // else is logged and answered INTERNAL without internals.
  const unary = <Req, Res>(method: string, handle: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      Promise.resolve()
        .then(() => handle(call.request, call))
        .then(
          (response) => callback(null, response),
          (err: unknown) => {
            if (err instanceof RequestError) {
              logger.debug({ method, code: grpc.status[err.code], err: err.message }, "request refused");
              callback({ code: err.code, details: err.message });
            } else {
              logger.error({ err, method }, "request failed");
              callback({ code: grpc.status.INTERNAL, details: `${method} failed inside the sidecar; see its log` });
            }
          },
        );
    };

  const server = new grpc.Server({
    // Room for the largest tensor the limit allows, with the rest of the message around it.
    "grpc.max_receive_message_length": Math.min(maxElements * 4 + 4 * 1024 * 1024, 2 ** 31 - 1),
    "grpc.max_send_message_length": -1,
  });
  server.addService(inferenceServiceDefinition(), {
    ServerLive: unary("ServerLive", () => ({ live: true })),
    ServerReady: unary("ServerReady", () => ({ ready: [...served.values()].every((m) => m.readiness().state !== "LOADING") })),
    ModelReady: unary("ModelReady", (request: ModelRequestMessage) => {
      // As Triton: an unknown model is simply not ready.
      const model = served.get(request.name);
      const versionOk = request.version === "" || model?.entry.versions.includes(request.version) === true;
      return { ready: model !== undefined && versionOk && model.readiness().ready };
    }),
    ServerMetadata: unary("ServerMetadata", () => ({
      name: "arabicstt-sidecar",
      version,
      extensions: ["model_repository", "model_configuration", "binary_tensor_data", "parameters"],
    })),
    ModelMetadata: unary("ModelMetadata", (request: ModelRequestMessage) => {
      const { entry } = lookup(request.name, request.version);
      const { config } = entry;
      return {
        name: entry.name,
        versions: entry.versions,
        platform: config.platform || config.backend,
        inputs: config.input.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
        outputs: config.output.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
      };
    }),
    ModelConfig: unary("ModelConfig", (request: ModelRequestMessage) =>
      create(ModelConfigResponseSchema, { config: lookup(request.name, request.version).entry.config }),
    ),
    RepositoryIndex: unary("RepositoryIndex", (request: RepositoryIndexRequestMessage) => ({
      models: [...served.values()].flatMap((model) => {
        const readiness = model.readiness();
        if (request.ready && !readiness.ready) return [];
        return model.entry.versions.map((v) => ({ name: model.entry.name, version: v, state: readiness.state, reason: readiness.reason ?? "" }));
      }),
    })),
    ModelInfer: unary("ModelInfer", async (request: ModelInferRequestMessage, call): Promise<ModelInferResponseWire> => {
      const model = lookup(request.model_name, request.model_version);
      const readiness = model.readiness();
      if (!readiness.ready || !model.model) {
        throw new RequestError(grpc.status.UNAVAILABLE, `model "${model.entry.name}" is not ready: ${readiness.reason ?? readiness.state}`);
      }
      const local = model.model;
      const checked = checkInferRequest(request, model.entry.config, { maxElements });
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort(new RequestError(grpc.status.CANCELLED, "the call was cancelled")));
      const started = performance.now();
      const tensors = await model.withInstance(maxQueued, abort.signal, async () => {
        try {
          return await local.infer(checked.inputs, checked.parameters, abort.signal);
        } catch (err) {
          const name = model.entry.name;
          if (err instanceof InferenceInputError) throw new RequestError(grpc.status.INVALID_ARGUMENT, `model "${name}" refused input ${err.message}`);
          // A model's runtime that crashed or is reloading, or whose own queue is full: worth a
          // retry, so the caller must not mistake it for a bug (INTERNAL).
          if (err instanceof UnavailableError) throw new RequestError(grpc.status.UNAVAILABLE, `model "${name}" is unavailable: ${err.message}`);
          if (err instanceof ResourceExhaustedError) throw new RequestError(grpc.status.RESOURCE_EXHAUSTED, `model "${name}" is overloaded: ${err.message}`);
          throw err;
        }
      });
      const { outputs, raw } = encodeOutputs(tensors, model.entry.config, checked.outputs);
      logger.debug({ model: model.entry.name, id: request.id, ms: Math.round(performance.now() - started) }, "inferred");
      return {
        model_name: model.entry.name,
        model_version: request.model_version || (model.entry.versions.at(-1) as string),
        id: request.id,
        outputs,
        raw_output_contents: raw,
      };
    }),
    ModelStreamInfer: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "the local sidecar serves ModelInfer; ModelStreamInfer is for decoupled models, which it has none of" });
    },
  });

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
  return {
    port,
    close: () =>
      (closed ??= (async () => {
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
      })()),
  };
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
