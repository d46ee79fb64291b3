// The sidecar's implementation of the KServe v2 GRPCInferenceService over its served models: a
// handler returns its response or throws; RequestErrors go to the caller as they are, anything
// else is logged and answered INTERNAL without internals.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ModelConfigResponseSchema } from "../../proto/gen/inference/grpc_service_pb.js";
import type { Logger } from "../logger.js";
import { kserveDatatype, wireShape } from "../repository/signature.js";
import { InferenceInputError, ModelOverloadedError, ModelUnavailableError } from "./models/model.js";
import { sequenceControlOf, sequenceLimitsOf } from "./models/sequences.js";
import { lookupModel, type ServedModel } from "./served-model.js";
import { checkInferRequest, encodeOutputs, RequestError } from "./tensors.js";
import type { ModelInferRequestMessage, ModelInferResponseWire, ModelRequestMessage, RepositoryIndexRequestMessage } from "./wire.js";
import { context, contextFromCarrier, failSpan, isServerError, metadataGetter, SpanKind, trace, tracerOf } from "../telemetry/spans.js";
import { ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC } from "@opentelemetry/semantic-conventions";

const tracer = tracerOf("arabicstt.sidecar");

export interface HandlerOptions {
  /** Largest element count of one input tensor. */
  maxElements: number;
  /** Requests that may wait for a busy model. */
  maxQueued: number;
  /** The sidecar's version, for ServerMetadata. */
  version: string;
  logger: Logger;
}

/** The handlers of every method, for grpc-js `Server.addService`. */
export function inferenceHandlers(served: ReadonlyMap<string, ServedModel>, options: HandlerOptions): grpc.UntypedServiceImplementation {
  const unary = unaryHandler(options.logger);
  return {
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
      version: options.version,
      extensions: ["model_repository", "model_configuration", "binary_tensor_data", "parameters"],
    })),
    ModelMetadata: unary("ModelMetadata", (request: ModelRequestMessage) => modelMetadata(lookupModel(served, request.name, request.version))),
    ModelConfig: unary("ModelConfig", (request: ModelRequestMessage) =>
      create(ModelConfigResponseSchema, { config: lookupModel(served, request.name, request.version).entry.config }),
    ),
    RepositoryIndex: unary("RepositoryIndex", (request: RepositoryIndexRequestMessage) => repositoryIndex(served, request.ready)),
    ModelInfer: unary("ModelInfer", (request: ModelInferRequestMessage, call) =>
      traced("ModelInfer", call, { "inference.model": request.model_name }, () => modelInfer(lookupModel(served, request.model_name, request.model_version), request, call, options)),
    ),
    ModelStreamInfer: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "the local sidecar serves ModelInfer; ModelStreamInfer is for decoupled models, which it has none of" });
    },
  };
}

/**
 * Runs `handle` in a server span that continues the trace of the call's `traceparent` metadata (the inference
 * client sends it). Only ModelInfer is traced: the readiness calls every probe makes would bury the traces
 * that matter under a root trace each.
 */
async function traced<Res>(method: string, call: grpc.ServerUnaryCall<unknown, unknown>, attributes: Record<string, string>, handle: () => Promise<Res>): Promise<Res> {
  const parent = contextFromCarrier(call.metadata, metadataGetter);
  const span = tracer.startSpan(
    `inference.GRPCInferenceService/${method}`,
    {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: `inference.GRPCInferenceService/${method}`, ...attributes },
    },
    parent,
  );
  try {
    const response = await context.with(trace.setSpan(parent, span), handle);
    span.setAttribute(ATTR_RPC_STATUS_CODE, "OK");
    return response;
  } catch (err) {
    const code = err instanceof RequestError ? err.code : grpc.status.INTERNAL;
    span.setAttribute(ATTR_RPC_STATUS_CODE, grpc.status[code]);
    if (isServerError(code)) failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A grpc-js unary handler from a function that returns the response or throws. */
function unaryHandler(logger: Logger) {
  return <Req, Res>(method: string, handle: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res) =>
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
}

function modelMetadata({ entry }: ServedModel) {
  const { config } = entry;
  return {
    name: entry.name,
    versions: entry.versions,
    platform: config.platform || config.backend,
    inputs: config.input.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
    outputs: config.output.map((t) => ({ name: t.name, datatype: kserveDatatype(t.dataType), shape: wireShape(config, t) })),
  };
}

function repositoryIndex(served: ReadonlyMap<string, ServedModel>, readyOnly: boolean) {
  return {
    models: [...served.values()].flatMap((model) => {
      const readiness = model.readiness();
      if (readyOnly && !readiness.ready) return [];
      return model.entry.versions.map((v) => ({ name: model.entry.name, version: v, state: readiness.state, reason: readiness.reason ?? "" }));
    }),
  };
}

async function modelInfer(
  model: ServedModel,
  request: ModelInferRequestMessage,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  options: HandlerOptions,
): Promise<ModelInferResponseWire> {
  const readiness = model.readiness();
  if (!readiness.ready || !model.model) {
    throw new RequestError(grpc.status.UNAVAILABLE, `model "${model.entry.name}" is not ready: ${readiness.reason ?? readiness.state}`);
  }
  const local = model.model;
  const checked = checkInferRequest(request, model.entry.config, { maxElements: options.maxElements });
  try {
    // Refused here for every model, threaded or not, that does not declare sequence batching.
    sequenceControlOf(checked.parameters, sequenceLimitsOf(model.entry.config) !== undefined);
  } catch (err) {
    throw refusalOf(model.entry.name, err);
  }
  const abort = new AbortController();
  call.on("cancelled", () => abort.abort(new RequestError(grpc.status.CANCELLED, "the call was cancelled")));
  const started = performance.now();
  const tensors = await model.withInstance(options.maxQueued, abort.signal, async () => {
    try {
      return await local.infer(checked.inputs, checked.parameters, abort.signal);
    } catch (err) {
      throw refusalOf(model.entry.name, err);
    }
  });
  const { outputs, raw } = encodeOutputs(tensors, model.entry.config, checked.outputs);
  options.logger.debug({ model: model.entry.name, id: request.id, ms: Math.round(performance.now() - started) }, "inferred");
  return {
    model_name: model.entry.name,
    model_version: request.model_version || (model.entry.versions.at(-1) as string),
    id: request.id,
    outputs,
    raw_output_contents: raw,
  };
}

/** What the caller is told when a model's infer() throws `err`; anything unknown stays as it is (INTERNAL). */
function refusalOf(name: string, err: unknown): unknown {
  if (err instanceof InferenceInputError) return new RequestError(grpc.status.INVALID_ARGUMENT, `model "${name}" refused input ${err.message}`);
  // A model's runtime that crashed or is reloading, or whose own queue is full: worth a
  // retry, so the caller must not mistake it for a bug (INTERNAL).
  if (err instanceof ModelUnavailableError) return new RequestError(grpc.status.UNAVAILABLE, `model "${name}" is unavailable: ${err.message}`);
  if (err instanceof ModelOverloadedError) return new RequestError(grpc.status.RESOURCE_EXHAUSTED, `model "${name}" is overloaded: ${err.message}`);
  return err;
}
