// The client every service uses to reach models: Triton in production, the local sidecar on a
// laptop or in CI, both over the KServe v2 gRPC API. One createInferenceClient per process
// (composition root); it owns one channel per server address.
//
// A call picks an address round-robin, skipping addresses whose circuit breaker is open, and
// runs under one deadline for all of its attempts. Only failures to reach a server are retried
// (gRPC UNAVAILABLE that no server sent: connection refused, reset or dropped mid-request), with
// exponential backoff and full jitter, preferring an address not yet tried in the same call, for
// as many attempts as the retry policy allows and the deadline leaves time for. A status the
// server itself sent is the answer: UNAVAILABLE from a server (model not loaded, queue full) is
// retried only on another address, and counts as success for the breaker, since the server was
// reached. A breaker opens after `failureThreshold` consecutive failures to reach its address,
// refuses requests for `cooldownMs`, then lets one probe through, which closes it on success.
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import type { Logger } from "../../services/platform/logger.js";
import { backoffDelayMs, sleep, type RetryOptions } from "./backoff.js";
import { CircuitBreaker, type BreakerOptions, type BreakerState } from "./breaker.js";
import {
  asrContract,
  contractViolations,
  signatureOfConfigMessage,
  speakerEmbeddingContract,
  vadContract,
  type ModelContract,
  type ModelSignature,
} from "./contract.js";
import {
  codeName,
  failureFromStatus,
  InferenceFailedPreconditionError,
  InferenceInternalError,
  InferenceUnavailableError,
  Status,
  type InferenceFailureContext,
} from "./errors.js";
import { createInferenceMetrics, type InferenceMetrics } from "./metrics.js";
import {
  embedding,
  embedRequest,
  transcribeRequest,
  transcription,
  vadRequest,
  vadResult,
  type InferParameterValue,
  type InferRequest,
  type InferResult,
  type TranscribeOptions,
  type Transcription,
  type VadResult,
} from "./models.js";
import {
  inferenceMethod,
  type InferenceMethodName,
  type InferParameterMessage,
  type ModelConfigResponseMessage,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type ModelMetadataResponseMessage,
  type RepositoryIndexResponseMessage,
  type ServerMetadataResponseMessage,
} from "./proto.js";
import { decodeContents, decodeRaw, emptyContents, encodeRaw, isDatatype, TensorFormatError, type Tensor } from "./tensors.js";

export interface InferenceClientOptions {
  /** Server addresses, "host:port" (Triton's gRPC port, or the sidecar's). At least one. */
  addresses: readonly string[];
  /** Deadline of a call, all attempts included, unless the call gives its own. Default 30 s. */
  deadlineMs?: number;
  /** Default: 4 attempts, backoff ceilings 50 ms doubling up to 1 s. */
  retry?: Partial<RetryOptions>;
  /** Default: open after 3 consecutive failures to reach an address, probe again after 2 s. */
  breaker?: Partial<BreakerOptions>;
  /** Where the client's metrics are registered; a private registry when left out. */
  registry?: Registry;
  logger?: Logger;
  /** Default: plaintext (Triton and the sidecar listen on a private network or loopback). */
  credentials?: grpc.ChannelCredentials;
  /** Largest request or response message. Default 64 MiB (about 17 minutes of 16 kHz FP32 audio). */
  maxMessageBytes?: number;
  /** Extra grpc-js channel options; they override the client's own. */
  channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  /** Deadline of this call, all attempts included; the client's default when left out. */
  deadlineMs?: number;
  /** Cancels the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface TensorSignature {
  name: string;
  datatype: string;
  /** Batch dimension included when the model batches; -1 is variable. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface RepositoryModel {
  name: string;
  version: string;
  /** "READY", "UNAVAILABLE", "LOADING", ... */
  state: string;
  /** Why the model is in that state, when the server says (for example how to install it). */
  reason: string;
}

export interface AddressHealth {
  address: string;
  breaker: BreakerState;
  ready: boolean;
  /** Why it is not ready. */
  error?: string;
}

export interface InferenceClient {
  /** True when at least one server is ready. Asks every address, bypassing the breakers. */
  serverReady(options?: CallOptions): Promise<boolean>;
  /** Readiness and breaker state of each address, for /readyz and diagnostics. */
  addressHealth(options?: CallOptions): Promise<AddressHealth[]>;
  serverLive(options?: CallOptions): Promise<boolean>;
  serverMetadata(options?: CallOptions): Promise<ServerMetadata>;
  modelReady(model: string, options?: CallOptions): Promise<boolean>;
  modelMetadata(model: string, options?: CallOptions): Promise<ModelMetadata>;
  /** The model's tensor signature from its configuration; cached per model. */
  modelConfig(model: string, options?: CallOptions): Promise<ModelSignature>;
  repositoryIndex(options?: CallOptions): Promise<RepositoryModel[]>;
  /** Any model, tensors in and out. */
  infer(request: InferRequest, options?: CallOptions): Promise<InferResult>;
  /** Speech probability per frame of 16 kHz mono audio. */
  vad(audio: Float32Array, options?: CallOptions): Promise<VadResult>;
  /** Text and timed segments of 16 kHz mono audio from an ASR model ("whisper", "dtmf"). */
  transcribe(model: string, audio: Float32Array, options?: TranscribeOptions & CallOptions): Promise<Transcription>;
  /** Speaker embedding of one segment of 16 kHz mono audio. */
  embed(segment: Float32Array, options?: CallOptions): Promise<Float32Array>;
  /** Closes every channel; calls in flight finish, later calls fail. */
  close(): void;
}

const defaultRetry: RetryOptions = { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 1_000, multiplier: 2 };
const defaultBreaker: BreakerOptions = { failureThreshold: 3, cooldownMs: 2_000 };

interface Endpoint {
  address: string;
  client: grpc.Client;
  breaker: CircuitBreaker;
}

/** One attempt's failure, with whether a server sent the status or grpc-js made it up locally. */
class AttemptFailure extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly serverAnswered: boolean,
  ) {
    super(details);
  }
}

interface CallContext extends InferenceFailureContext {
  /** Tensor names an INVALID_ARGUMENT message may mention. */
  tensorNames?: readonly string[];
}

export function createInferenceClient(options: InferenceClientOptions): InferenceClient {
  const addresses = options.addresses.map((a) => a.trim()).filter((a) => a !== "");
  if (addresses.length === 0) throw new Error("createInferenceClient: no server address given");
  const defaultDeadlineMs = options.deadlineMs ?? 30_000;
  const retry: RetryOptions = { ...defaultRetry, ...options.retry };
  const breakerOptions: BreakerOptions = { ...defaultBreaker, ...options.breaker };
  const metrics: InferenceMetrics = createInferenceMetrics(options.registry ?? new Registry());
  const logger = options.logger;
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const channelOptions: grpc.ChannelOptions = {
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
    // grpc-js backs off reconnecting for up to 2 minutes by default and, meanwhile, fails calls at
    // once; the breaker already paces attempts at a dead address, so a restarted server must be
    // reachable as soon as the breaker lets a probe through.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1_000,
    ...options.channelOptions,
  };
  const credentials = options.credentials ?? grpc.credentials.createInsecure();

  const endpoints: Endpoint[] = addresses.map((address) => {
    metrics.breakerOpen.set({ address }, 0);
    return {
      address,
      client: new grpc.Client(address, credentials, channelOptions),
      breaker: new CircuitBreaker(breakerOptions, (state) => {
        metrics.breakerOpen.set({ address }, state === "closed" ? 0 : 1);
        if (state === "open") logger?.warn({ address, cooldownMs: breakerOptions.cooldownMs }, "inference server unreachable: circuit open");
        else logger?.info({ address }, "inference server reachable again: circuit closed");
      }),
    };
  });
  let nextEndpoint = 0;
  let closed = false;
  const signatures = new Map<string, Promise<ModelSignature>>();

  const deadlineOf = (callOptions: CallOptions = {}) => Date.now() + (callOptions.deadlineMs ?? defaultDeadlineMs);

  /** The next address round-robin whose breaker lets a request through, preferring ones not yet tried. */
  function pick(tried: ReadonlySet<Endpoint>): Endpoint | undefined {
    for (const untriedOnly of [true, false]) {
      for (let i = 0; i < endpoints.length; i++) {
        const index = (nextEndpoint + i) % endpoints.length;
        const endpoint = endpoints[index]!;
        if (untriedOnly && tried.has(endpoint)) continue;
        if (endpoint.breaker.tryAcquire()) {
          nextEndpoint = (index + 1) % endpoints.length;
          return endpoint;
        }
      }
    }
    return undefined;
  }

  function attempt<Res>(endpoint: Endpoint, method: InferenceMethodName, request: object, deadline: number, signal?: AbortSignal): Promise<Res> {
    const definition = inferenceMethod(method);
    return new Promise<Res>((resolve, reject) => {
      let headersReceived = false;
      const call = endpoint.client.makeUnaryRequest<object, object>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline },
        (err, response) => {
          signal?.removeEventListener("abort", cancel);
          if (!err) return resolve(response as Res);
          // A status from a server arrives in HTTP/2 headers: response headers, or one trailers-only
          // frame whose leftover headers (content-type, date) stay in the error's metadata. A status
          // grpc-js made up (connection refused, dropped, local limits) has neither.
          const serverAnswered = headersReceived || Object.keys(err.metadata?.getMap() ?? {}).length > 0;
          reject(new AttemptFailure(err.code, err.details, serverAnswered));
        },
      );
      call.on("metadata", () => {
        headersReceived = true;
      });
      const cancel = () => call.cancel();
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** One RPC with the client's deadline, retry, breaker and round-robin policy. */
  async function call<Res>(method: InferenceMethodName, request: object, deadline: number, signal: AbortSignal | undefined, context: CallContext): Promise<Res> {
    if (closed) throw new InferenceUnavailableError("inference client is closed", context);
    const tried = new Set<Endpoint>();
    let last: { failure: AttemptFailure; address: string } | undefined;
    for (let attemptNumber = 1; ; attemptNumber++) {
      signal?.throwIfAborted();
      const endpoint = pick(tried);
      if (!endpoint) {
        const why = last ? `; last error from ${last.address}: ${last.failure.details}` : "";
        throw new InferenceUnavailableError(`no inference server reachable (circuit open for ${addresses.join(", ")})${why}`, {
          ...context,
          address: last?.address,
        });
      }
      tried.add(endpoint);
      let failure: AttemptFailure;
      try {
        const response = await attempt<Res>(endpoint, method, request, deadline, signal);
        endpoint.breaker.success();
        metrics.attempts.inc({ address: endpoint.address, outcome: "ok" });
        return response;
      } catch (err) {
        if (!(err instanceof AttemptFailure)) {
          endpoint.breaker.release();
          throw err;
        }
        failure = err;
      }
      last = { failure, address: endpoint.address };
      const failed = { ...context, address: endpoint.address };
      let retryable: boolean;
      if (signal?.aborted) {
        endpoint.breaker.release();
        metrics.attempts.inc({ address: endpoint.address, outcome: "cancelled" });
        throw signal.reason;
      } else if (failure.serverAnswered) {
        endpoint.breaker.success();
        metrics.attempts.inc({ address: endpoint.address, outcome: "server_error" });
        retryable = failure.code === Status.UNAVAILABLE && endpoints.some((e) => !tried.has(e));
      } else if (failure.code === Status.UNAVAILABLE) {
        endpoint.breaker.failure();
        metrics.attempts.inc({ address: endpoint.address, outcome: "transport_error" });
        retryable = true;
      } else {
        // Deadline, or a local limit (message too large): nothing learned about the server.
        endpoint.breaker.release();
        metrics.attempts.inc({ address: endpoint.address, outcome: "transport_error" });
        retryable = false;
      }
      const wait = backoffDelayMs(attemptNumber, retry);
      if (!retryable || attemptNumber >= retry.maxAttempts || Date.now() + wait >= deadline) {
        throw failureFromStatus(failure.code, failure.details, failed, context.tensorNames);
      }
      logger?.debug({ ...failed, method, attempt: attemptNumber, code: codeName(failure.code), waitMs: Math.round(wait) }, "retrying inference call");
      await sleep(wait, signal);
    }
  }

  async function infer(request: InferRequest, callOptions: CallOptions = {}, deadline = deadlineOf(callOptions)): Promise<InferResult> {
    const model = request.model;
    const started = performance.now();
    try {
      let message: ModelInferRequestMessage;
      try {
        message = {
          model_name: model,
          model_version: request.version ?? "",
          inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
          outputs: (request.outputs ?? []).map((name) => ({ name })),
          parameters: request.parameters ? parameterMessages(request.parameters) : {},
          raw_input_contents: request.inputs.map(encodeRaw),
        };
      } catch (err) {
        if (err instanceof TensorFormatError) throw failureFromStatus(Status.INVALID_ARGUMENT, err.message, { model }, [err.tensor]);
        throw err;
      }
      // The tensors an INVALID_ARGUMENT may name: the request's, then those of the model's signature
      // when it is known (a missing required input is in the signature, not in the request).
      const known = await signatures.get(model)?.catch(() => undefined);
      const tensorNames = [
        ...request.inputs.map((t) => t.name),
        ...(request.outputs ?? []),
        ...(known ? [...known.inputs, ...known.outputs].map((t) => t.name) : []),
      ];
      let response: ModelInferResponseMessage;
      try {
        response = await call<ModelInferResponseMessage>("ModelInfer", message, deadline, callOptions.signal, { model, tensorNames });
      } catch (err) {
        // The model may have been reloaded with another configuration.
        if (err instanceof Error && "code" in err && (err.code === Status.INVALID_ARGUMENT || err.code === Status.NOT_FOUND)) signatures.delete(model);
        throw err;
      }
      const result = decodeResponse(model, response);
      metrics.duration.observe({ model }, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      metrics.duration.observe({ model }, (performance.now() - started) / 1000);
      const code = err instanceof Error && "code" in err && typeof err.code === "number" ? codeName(err.code) : callOptions.signal?.aborted ? "cancelled" : "unknown";
      metrics.errors.inc({ model, code });
      throw err;
    }
  }

  function modelConfig(model: string, callOptions: CallOptions = {}, deadline = deadlineOf(callOptions)): Promise<ModelSignature> {
    let signature = signatures.get(model);
    if (!signature) {
      signature = call<ModelConfigResponseMessage>("ModelConfig", { name: model, version: "" }, deadline, callOptions.signal, { model }).then(
        (response) => {
          if (!response.config) throw new InferenceInternalError(Status.INTERNAL, `ModelConfig of ${model} returned no configuration`, { model });
          return signatureOfConfigMessage(response.config);
        },
      );
      signatures.set(model, signature);
      signature.catch(() => signatures.delete(model));
    }
    return signature;
  }

  /** The model's signature, once it is known to satisfy the contract the helper relies on. */
  async function usableSignature(model: string, contract: ModelContract, callOptions: CallOptions, deadline: number): Promise<ModelSignature> {
    const signature = await modelConfig(model, callOptions, deadline);
    const problems = contractViolations(contract, signature);
    if (problems.length > 0) {
      throw new InferenceFailedPreconditionError(`inference model ${model} does not match the client's contract: ${problems.join("; ")}`, { model });
    }
    return signature;
  }

  async function addressHealth(callOptions: CallOptions = {}): Promise<AddressHealth[]> {
    const deadline = deadlineOf(callOptions);
    return Promise.all(
      endpoints.map(async (endpoint) => {
        const base = { address: endpoint.address, breaker: endpoint.breaker.state };
        try {
          const { ready } = await attempt<{ ready: boolean }>(endpoint, "ServerReady", {}, deadline, callOptions.signal);
          return ready ? { ...base, ready } : { ...base, ready, error: "server reports not ready" };
        } catch (err) {
          return { ...base, ready: false, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  return {
    addressHealth,
    async serverReady(callOptions) {
      return (await addressHealth(callOptions)).some((a) => a.ready);
    },
    async serverLive(callOptions = {}) {
      const { live } = await call<{ live: boolean }>("ServerLive", {}, deadlineOf(callOptions), callOptions.signal, {});
      return live;
    },
    async serverMetadata(callOptions = {}) {
      const r = await call<ServerMetadataResponseMessage>("ServerMetadata", {}, deadlineOf(callOptions), callOptions.signal, {});
      return { name: r.name, version: r.version, extensions: r.extensions };
    },
    async modelReady(model, callOptions = {}) {
      const { ready } = await call<{ ready: boolean }>("ModelReady", { name: model, version: "" }, deadlineOf(callOptions), callOptions.signal, { model });
      return ready;
    },
    async modelMetadata(model, callOptions = {}) {
      const r = await call<ModelMetadataResponseMessage>("ModelMetadata", { name: model, version: "" }, deadlineOf(callOptions), callOptions.signal, {
        model,
      });
      const tensor = (t: { name: string; datatype: string; shape: string[] }) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) });
      return { name: r.name, versions: r.versions, platform: r.platform, inputs: r.inputs.map(tensor), outputs: r.outputs.map(tensor) };
    },
    modelConfig: (model, callOptions) => modelConfig(model, callOptions),
    async repositoryIndex(callOptions = {}) {
      const r = await call<RepositoryIndexResponseMessage>("RepositoryIndex", { repository_name: "", ready: false }, deadlineOf(callOptions), callOptions.signal, {});
      return r.models.map((m) => ({ name: m.name, version: m.version, state: m.state, reason: m.reason }));
    },
    infer: (request, callOptions) => infer(request, callOptions),
    async vad(audio, callOptions = {}) {
      const deadline = deadlineOf(callOptions);
      const signature = await usableSignature("vad", vadContract, callOptions, deadline);
      return vadResult(signature, await infer(vadRequest(signature, audio), callOptions, deadline));
    },
    async transcribe(model, audio, callOptions = {}) {
      const deadline = deadlineOf(callOptions);
      const signature = await usableSignature(model, asrContract, callOptions, deadline);
      return transcription(await infer(transcribeRequest(signature, audio, callOptions), callOptions, deadline));
    },
    async embed(segment, callOptions = {}) {
      const deadline = deadlineOf(callOptions);
      const signature = await usableSignature("speaker_embedding", speakerEmbeddingContract, callOptions, deadline);
      return embedding(await infer(embedRequest(signature, segment), callOptions, deadline));
    },
    close() {
      closed = true;
      for (const endpoint of endpoints) endpoint.client.close();
    },
  };
}

function parameterMessages(parameters: Record<string, InferParameterValue>): Record<string, InferParameterMessage> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) => {
      if (typeof value === "string") return [key, { string_param: value }];
      if (typeof value === "boolean") return [key, { bool_param: value }];
      return [key, Number.isInteger(value) ? { int64_param: value } : { double_param: value }];
    }),
  );
}

function decodeResponse(model: string, response: ModelInferResponseMessage): InferResult {
  const raw = response.raw_output_contents;
  if (raw.length > 0 && raw.length !== response.outputs.length) {
    throw new InferenceInternalError(Status.INTERNAL, `inference model ${model} returned ${response.outputs.length} outputs but ${raw.length} raw contents`, {
      model,
    });
  }
  const outputs = new Map<string, Tensor>();
  response.outputs.forEach((output, i) => {
    const { name, datatype } = output;
    if (!isDatatype(datatype)) throw new InferenceInternalError(Status.INTERNAL, `output ${name} of ${model} has unknown datatype ${datatype}`, { model });
    const shape = output.shape.map(Number);
    try {
      const data =
        raw.length > 0
          ? decodeRaw(name, datatype, shape, raw[i]!)
          : decodeContents(name, datatype, shape, output.contents ?? emptyContents());
      outputs.set(name, { name, datatype, shape, data });
    } catch (err) {
      if (err instanceof TensorFormatError) {
        throw new InferenceInternalError(Status.INTERNAL, `inference model ${model} returned a malformed output: ${err.message}`, { model });
      }
      throw err;
    }
  });
  return { model: response.model_name || model, version: response.model_version, outputs };
}

