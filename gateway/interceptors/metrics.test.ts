// What /metrics says about streams that do not end well: a client that cancels its StreamingRecognize
// call, or whose connection is reset, is counted as code="cancelled" (not "ok"); one that closes its
// side normally is "ok". And the live stream observer's facts (sessions, drops, resumes, replays, lag)
// land in their Prometheus series.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { createClient, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Health } from "../../proto/gen/grpc/health/v1/health_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StreamingRecognizeResponseSchema, type StreamingRecognizeRequest } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { productRoutes } from "../routes.js";
import { startTestGateway, type TestGateway } from "../testing/test-gateway.js";
import { startTestIdentity, type TestIdentity } from "../testing/test-identity.js";
import { grpcJsClient, loadGrpcJsPackage } from "../testing/clients.js";
import { startChaosProxy, type ChaosProxy } from "../testing/chaos-proxy.js";
import { createGatewayMetrics, liveStreamObserver } from "./metrics.js";

const SPEECH = "arabicstt.v1.SpeechService";

/** Stands in for a recognizer's last decode: a second, cut short when the call's signal fires. */
function finalDecode(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

describe("arabicstt_rpc_requests_total for streams that end badly", () => {
  const pkg = loadGrpcJsPackage();
  let gw: TestGateway;
  let identity: TestIdentity;
  /** A real API key with the speech scope, made through the identity service. */
  let apiKey: string;
  let proxy: ChaosProxy | undefined;
  const clients: grpc.Client[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    apiKey = await identity.apiKey(["speech"]);
    gw = await startTestGateway({
      identity,
      // A live stream without the engine: one response per request, and a last one after the client's
      // half-close once the "final decode" is done. That decode is what a cancelling client interrupts:
      // grpc-js cancels with END_STREAM and then RST_STREAM, so a handler that ended on END_STREAM at once
      // would have finished (ok) before the reset came.
      routes: productRoutes({
        [SPEECH]: {
          async *streamingRecognize(requests: AsyncIterable<StreamingRecognizeRequest>, context: HandlerContext) {
            for await (const _ of requests) yield create(StreamingRecognizeResponseSchema, {});
            await finalDecode(context.signal);
            if (!context.signal.aborted) yield create(StreamingRecognizeResponseSchema, {});
          },
        },
      }),
    });
  }, 60_000);
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await gw?.drain();
    await identity?.stop();
  });

  type Duplex = grpc.ClientDuplexStream<object, object>;
  function speechClient(port: number) {
    const client = grpcJsClient(pkg, SPEECH, `127.0.0.1:${port}`, { authorization: `Bearer ${apiKey}` });
    clients.push(client);
    return client as grpc.Client & { StreamingRecognize(): Duplex };
  }

  /** Opens a stream and waits for the answer to its first request, so the server is surely inside the handler. */
  async function openStream(port: number) {
    const call = speechClient(port).StreamingRecognize();
    const ended = new Promise<grpc.status>((resolve) => {
      call.on("error", (err: grpc.ServiceError) => resolve(err.code));
      call.on("status", (s: grpc.StatusObject) => resolve(s.code));
    });
    const first = new Promise<void>((resolve) => call.once("data", () => resolve()));
    call.write({ audio_content: Buffer.alloc(320) });
    await first;
    return { call, ended };
  }

  async function scrape(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  }

  function streamCount(text: string, code: string, rpc = `${SPEECH}/StreamingRecognize`): number {
    const [service, method] = rpc.split("/");
    const line = text.split("\n").find((l) => l.startsWith(`arabicstt_rpc_requests_total{service="${service}",method="${method}",code="${code}"}`));
    return line ? Number(line.split(" ").pop()) : 0;
  }

  /**
   * The server learns of a cancellation or a reset some time after the client acted; polls /metrics
   * (bounded) until the count of `code` has reached `count`.
   */
  async function untilCount(code: string, count: number, rpc?: string): Promise<string> {
    let text = "";
    for (let attempt = 0; attempt < 100; attempt++) {
      text = await scrape();
      if (streamCount(text, code, rpc) >= count) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    return text;
  }

  it("counts a stream the grpc-js client cancels as cancelled, not ok", async () => {
    const before = await scrape();
    const { call, ended } = await openStream(gw.grpcPort);
    call.cancel();
    expect(await ended).toBe(grpc.status.CANCELLED);
    const after = await untilCount("cancelled", streamCount(before, "cancelled") + 1);
    expect(streamCount(after, "cancelled")).toBe(streamCount(before, "cancelled") + 1);
    expect(streamCount(after, "ok")).toBe(streamCount(before, "ok"));
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: "rpc cancelled", rpc_method: "StreamingRecognize", code: "cancelled" }));
  });

  it("counts a stream whose connection is reset as cancelled", async () => {
    proxy = await startChaosProxy({ target: { host: "127.0.0.1", port: gw.grpcPort } });
    const before = await scrape();
    const { ended } = await openStream(proxy.port);
    proxy.reset();
    expect(await ended).toBe(grpc.status.UNAVAILABLE);
    const after = await untilCount("cancelled", streamCount(before, "cancelled") + 1);
    expect(streamCount(after, "cancelled")).toBe(streamCount(before, "cancelled") + 1);
    expect(streamCount(after, "ok")).toBe(streamCount(before, "ok"));
  });

  it("counts a server stream whose HTTP/1.1 client (Connect, as browsers use) aborts as cancelled", async () => {
    const watch = "grpc.health.v1.Health/Watch";
    const before = await scrape();
    const health = createClient(Health, createConnectTransport({ baseUrl: `http://127.0.0.1:${gw.httpPort}`, httpVersion: "1.1" }));
    const abort = new AbortController();
    const stream = health.watch({}, { signal: abort.signal });
    for await (const _ of stream) break;
    abort.abort();
    const after = await untilCount("cancelled", streamCount(before, "cancelled", watch) + 1, watch);
    expect(streamCount(after, "cancelled", watch)).toBe(streamCount(before, "cancelled", watch) + 1);
    expect(streamCount(after, "ok", watch)).toBe(streamCount(before, "ok", watch));
  });

  it("still counts a stream the client closes normally as ok", async () => {
    const before = await scrape();
    const { call, ended } = await openStream(gw.grpcPort);
    call.end();
    expect(await ended).toBe(grpc.status.OK);
    const after = await untilCount("ok", streamCount(before, "ok") + 1);
    expect(streamCount(after, "ok")).toBe(streamCount(before, "ok") + 1);
    expect(streamCount(after, "cancelled")).toBe(streamCount(before, "cancelled"));
  });
});

describe("liveStreamObserver", () => {
  it("turns live stream facts into the arabicstt_live_* series", async () => {
    const metrics = createGatewayMetrics();
    const observer = liveStreamObserver(metrics);
    const value = async (name: string, labels: Record<string, string> = {}) => {
      const metric = await metrics.registry.getSingleMetric(name)!.get();
      const sample = metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && (v as { metricName?: string }).metricName !== `${name}_bucket`);
      return sample?.value;
    };
    // Every label value is there from the start, at zero.
    expect(await value("arabicstt_live_drops_total", { reason: "silent" })).toBe(0);
    expect(await value("arabicstt_live_resumes_total", { where: "takeover" })).toBe(0);
    expect(await value("arabicstt_live_sessions_ended_total", { outcome: "abandoned" })).toBe(0);

    observer.sessionStarted();
    observer.sessionStarted();
    observer.dropped("cancelled");
    observer.resumed("local");
    observer.replayed(3);
    observer.sessionEnded("closed");
    observer.sessionHandedOver();
    // A session taken over from another replica is held here now.
    observer.resumed("takeover");
    observer.replayed(2);
    observer.lag(0.02);
    observer.lag(3);

    expect(await value("arabicstt_live_sessions_active")).toBe(1);
    expect(await value("arabicstt_live_sessions_ended_total", { outcome: "closed" })).toBe(1);
    expect(await value("arabicstt_live_drops_total", { reason: "cancelled" })).toBe(1);
    expect(await value("arabicstt_live_resumes_total", { where: "local" })).toBe(1);
    expect(await value("arabicstt_live_resumes_total", { where: "takeover" })).toBe(1);
    expect(await value("arabicstt_live_replayed_outputs_total")).toBe(5);
    const text = await metrics.registry.metrics();
    expect(text).toContain('arabicstt_live_lag_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('arabicstt_live_lag_seconds_bucket{le="5"} 2');
    expect(text).toContain("arabicstt_live_lag_seconds_count 2");
  });
});
