import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const liveBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gateway's Prometheus metrics, on a registry of its own so several gateways can run in one process (tests). */
export interface GatewayMetrics {
  registry: Registry;
  rpcRequests: Counter<"service" | "method" | "code">;
  rpcDuration: Histogram<"service" | "method">;
  activeStreams: Gauge<"service" | "method">;
  /** Live recognition: time to first partial, final latency, model time per call. */
  liveFirstPartial: Histogram;
  liveFinalLatency: Histogram;
  liveDecode: Histogram<"kind">;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcRequests: new Counter({
      name: "arabicstt_rpc_requests_total",
      help: "RPCs handled, by service, method and final status code (ok, invalid_argument, ...).",
      labelNames: ["service", "method", "code"],
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: "arabicstt_rpc_duration_seconds",
      help: "RPC duration from first byte to final status; for streams, the whole stream.",
      labelNames: ["service", "method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: "arabicstt_active_streams",
      help: "Streaming RPCs open right now.",
      labelNames: ["service", "method"],
      registers: [registry],
    }),
    liveFirstPartial: new Histogram({
      name: "arabicstt_live_time_to_first_partial_seconds",
      help: "Live recognition: from the start of an utterance to its first interim result.",
      buckets: liveBuckets,
      registers: [registry],
    }),
    liveFinalLatency: new Histogram({
      name: "arabicstt_live_final_latency_seconds",
      help: "Live recognition: from an utterance's endpoint to its final result.",
      buckets: liveBuckets,
      registers: [registry],
    }),
    liveDecode: new Histogram({
      name: "arabicstt_live_decode_seconds",
      help: "Live recognition: one model call, an interim re-decode or an utterance's final decode.",
      labelNames: ["kind"],
      buckets: liveBuckets,
      registers: [registry],
    }),
  };
}
