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
import type { AddressHealth, CallOptions, InferenceClient, InferenceClientOptions } from "./api.js";
import type { RetryOptions } from "./backoff.js";
import type { BreakerOptions } from "./breaker.js";
import { retryingCall, type Call } from "./call.js";
import { attempt, EndpointPool, type ChannelSettings } from "./endpoints.js";
import { createInferenceMetrics } from "./metrics.js";
import { ModelCalls } from "./model-calls.js";
import type { ModelMetadataResponseMessage, RepositoryIndexResponseMessage, ServerMetadataResponseMessage } from "./proto.js";


const defaultRetry: RetryOptions = { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 1_000, multiplier: 2 };
const defaultBreaker: BreakerOptions = { failureThreshold: 3, cooldownMs: 2_000 };

export function createInferenceClient(options: InferenceClientOptions): InferenceClient {
  const addresses = options.addresses.map((a) => a.trim()).filter((a) => a !== "");
  if (addresses.length === 0) throw new Error("createInferenceClient: no server address given");
  const defaultDeadlineMs = options.deadlineMs ?? 30_000;
  const metrics = createInferenceMetrics(options.registry ?? new Registry());
  const pool = new EndpointPool(addresses, channelSettings(options), { ...defaultBreaker, ...options.breaker }, metrics, options.logger);
  let closed = false;
  const call = retryingCall({ pool, retry: { ...defaultRetry, ...options.retry }, metrics, logger: options.logger, isClosed: () => closed });
  const deadlineOf = (callOptions: CallOptions = {}) => Date.now() + (callOptions.deadlineMs ?? defaultDeadlineMs);
  const models = new ModelCalls(call, metrics, deadlineOf);
  const addressHealth = (callOptions: CallOptions = {}) => healthOf(pool, deadlineOf(callOptions), callOptions.signal);
  return {
    addressHealth,
    async serverReady(callOptions) {
      return (await addressHealth(callOptions)).some((a) => a.ready);
    },
    ...serverCalls(call, deadlineOf),
    modelConfig: (model, callOptions) => models.modelConfig(model, callOptions),
    infer: (request, callOptions) => models.infer(request, callOptions),
    vad: (audio, callOptions) => models.vad(audio, callOptions),
    transcribe: (model, audio, callOptions) => models.transcribe(model, audio, callOptions),
    embed: (segment, callOptions) => models.embed(segment, callOptions),
    close() {
      closed = true;
      pool.close();
    },
  };
}

function channelSettings(options: InferenceClientOptions): ChannelSettings {
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  return {
    credentials: options.credentials ?? grpc.credentials.createInsecure(),
    channelOptions: {
      "grpc.max_receive_message_length": maxMessageBytes,
      "grpc.max_send_message_length": maxMessageBytes,
      // grpc-js backs off reconnecting for up to 2 minutes by default and, meanwhile, fails calls at
      // once; the breaker already paces attempts at a dead address, so a restarted server must be
      // reachable as soon as the breaker lets a probe through.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1_000,
      ...options.channelOptions,
    },
  };
}

/** Readiness of every address, asked directly (no breaker, no retry). */
function healthOf(pool: EndpointPool, deadline: number, signal?: AbortSignal): Promise<AddressHealth[]> {
  return Promise.all(
    pool.endpoints.map(async (endpoint) => {
      const base = { address: endpoint.address, breaker: endpoint.breaker.state };
      try {
        const { ready } = await attempt<{ ready: boolean }>(endpoint, "ServerReady", {}, deadline, signal);
        return ready ? { ...base, ready } : { ...base, ready, error: "server reports not ready" };
      } catch (err) {
        return { ...base, ready: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}

/** The calls about servers and models, each one RPC whose response becomes the client's type. */
function serverCalls(call: Call, deadlineOf: (callOptions?: CallOptions) => number): Pick<InferenceClient, "serverLive" | "serverMetadata" | "modelReady" | "modelMetadata" | "repositoryIndex"> {
  return {
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
    async repositoryIndex(callOptions = {}) {
      const r = await call<RepositoryIndexResponseMessage>("RepositoryIndex", { repository_name: "", ready: false }, deadlineOf(callOptions), callOptions.signal, {});
      return r.models.map((m) => ({ name: m.name, version: m.version, state: m.state, reason: m.reason }));
    },
  };
}
