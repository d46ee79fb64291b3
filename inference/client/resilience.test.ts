// Client behaviour a real sidecar cannot be made to show on demand: a server that hangs, a server
// that says UNAVAILABLE for its own reasons, an answer in typed `contents` rather than raw bytes,
// and an address where nothing listens. Everything the sidecar can show is tested against the
// sidecar (sidecar.test.ts, recovery.test.ts, whisper.test.ts).
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../testing/ports.js";
import { createInferenceClient, type InferenceClient } from "./index.js";
import { InferenceDeadlineExceededError, InferenceUnavailableError } from "./errors.js";
import { inferenceMethod, type InferenceMethodName } from "../kserve/service.js";

type Handler = (request: Record<string, unknown>) => Promise<object> | "hang" | grpc.ServiceError;

async function stubServer(handlers: Partial<Record<InferenceMethodName, Handler>>): Promise<{ address: string; calls: number; stop(): void }> {
  const server = new grpc.Server();
  const state = { calls: 0 };
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers) as [InferenceMethodName, Handler][]) {
    definition[name] = inferenceMethod(name);
    implementation[name] = (call: grpc.ServerUnaryCall<Record<string, unknown>, object>, callback: grpc.sendUnaryData<object>) => {
      state.calls++;
      const outcome = handler(call.request);
      if (outcome === "hang") return;
      if (outcome instanceof Error) return callback(outcome);
      void outcome.then((response) => callback(null, response));
    };
  }
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    get calls() {
      return state.calls;
    },
    stop: () => server.forceShutdown(),
  };
}

const unavailable = (details: string): grpc.ServiceError => Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details, metadata: new grpc.Metadata() });

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function client(addresses: string[], registry = new Registry(), deadlineMs = 2_000): InferenceClient {
  const c = createInferenceClient({
    addresses,
    deadlineMs,
    registry,
    retry: { maxAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 50 },
    breaker: { failureThreshold: 2, cooldownMs: 60_000 },
  });
  cleanups.push(() => c.close());
  return c;
}

async function attemptsOf(registry: Registry, address: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric("arabicstt_inference_attempts_total")!.get();
  return Object.fromEntries(metric.values.filter((v) => v.labels.address === address).map((v) => [v.labels.outcome, v.value]));
}

describe("inference client resilience", () => {
  it("gives up on a server that never answers at the call's deadline, and keeps its breaker closed", async () => {
    const hung = await stubServer({ ModelInfer: () => "hang" });
    cleanups.push(hung.stop);
    const c = client([hung.address]);
    const started = Date.now();
    const request = { model: "dtmf", inputs: [{ name: "AUDIO", datatype: "FP32" as const, shape: [4], data: new Float32Array(4) }] };
    await expect(c.infer(request, { deadlineMs: 300 })).rejects.toBeInstanceOf(InferenceDeadlineExceededError);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
    // A slow model is not a dead server: the next call still goes out.
    await expect(c.infer(request, { deadlineMs: 100 })).rejects.toBeInstanceOf(InferenceDeadlineExceededError);
    expect(hung.calls).toBe(2);
  });

  it("takes a server's own UNAVAILABLE as its answer: another address is tried, the same one is not, no breaker trips", async () => {
    const loading = await stubServer({ ModelReady: () => unavailable("model whisper is loading") });
    const serving = await stubServer({ ModelReady: async () => ({ ready: true }) });
    cleanups.push(loading.stop, serving.stop);
    const registry = new Registry();
    const both = client([loading.address, serving.address], registry);
    for (let i = 0; i < 6; i++) expect(await both.modelReady("whisper")).toBe(true);
    expect(loading.calls).toBeGreaterThan(0);
    expect(await attemptsOf(registry, loading.address)).toEqual({ server_error: loading.calls });

    const alone = client([loading.address]);
    const calls = loading.calls;
    const failure = await alone.modelReady("whisper").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InferenceUnavailableError);
    expect((failure as Error).message).toBe("inference model whisper unavailable: model whisper is loading");
    expect(loading.calls - calls).toBe(1);
  });

  it("fails fast while every breaker is open instead of dialling a dead address again", async () => {
    const deadAddress = `127.0.0.1:${await freePort()}`;
    const registry = new Registry();
    const c = client([deadAddress], registry);
    const first = await c.serverLive().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(InferenceUnavailableError);
    expect((first as Error).message).toMatch(/no inference server reachable \(circuit open for 127\.0\.0\.1:\d+\); last error from .*ECONNREFUSED/);
    expect(await attemptsOf(registry, deadAddress)).toEqual({ transport_error: 2 });
    const started = Date.now();
    await expect(c.serverLive()).rejects.toThrow(/circuit open/);
    expect(Date.now() - started).toBeLessThan(50);
    expect(await attemptsOf(registry, deadAddress)).toEqual({ transport_error: 2 });
    const breaker = await registry.getSingleMetric("arabicstt_inference_breaker_open")!.get();
    expect(breaker.values).toEqual([{ labels: { address: deadAddress }, value: 1 }]);
  });

  it("reads outputs a server sends as typed contents instead of raw bytes", async () => {
    const typed = await stubServer({
      ModelInfer: async () => ({
        model_name: "vad",
        model_version: "1",
        outputs: [{ name: "PROBS", datatype: "FP32", shape: [3], contents: { fp32_contents: [0.1, 0.9, 0.5] } }],
        raw_output_contents: [],
      }),
    });
    cleanups.push(typed.stop);
    const result = await client([typed.address]).infer({
      model: "vad",
      inputs: [{ name: "AUDIO", datatype: "FP32", shape: [1536], data: new Float32Array(1536) }],
    });
    expect(result.version).toBe("1");
    expect(result.outputs.get("PROBS")?.data).toEqual(new Float32Array([0.1, 0.9, 0.5]));
  });
});
