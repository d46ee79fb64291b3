import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The inference client's Prometheus metrics, on the registry of the process that owns the client. */
export interface InferenceMetrics {
  /** Whole ModelInfer calls, retries included, by model. */
  duration: Histogram<"model">;
  /** Failed ModelInfer calls by model and final gRPC code ("unavailable", "invalid_argument", ...). */
  errors: Counter<"model" | "code">;
  /** Every RPC attempt by server address and outcome ("ok", "server_error", "transport_error", "cancelled"). */
  attempts: Counter<"address" | "outcome">;
  /** 1 while the address's circuit breaker is open or half-open, else 0. */
  breakerOpen: Gauge<"address">;
}

/**
 * Registers the metrics on `registry`, or reuses them when another client of the same process
 * registered them there first (prom-client refuses a second metric of the same name).
 */
export function createInferenceMetrics(registry: Registry): InferenceMetrics {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    duration: reuse(
      "arabicstt_inference_duration_seconds",
      () =>
        new Histogram({
          name: "arabicstt_inference_duration_seconds",
          help: "Inference calls (ModelInfer, retries included) from first attempt to result, by model.",
          labelNames: ["model"],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
    errors: reuse(
      "arabicstt_inference_errors_total",
      () =>
        new Counter({
          name: "arabicstt_inference_errors_total",
          help: "Inference calls that failed, by model and final gRPC code.",
          labelNames: ["model", "code"],
          registers: [registry],
        }),
    ),
    attempts: reuse(
      "arabicstt_inference_attempts_total",
      () =>
        new Counter({
          name: "arabicstt_inference_attempts_total",
          help: "RPC attempts to inference servers, by address and outcome (ok, server_error, transport_error, cancelled).",
          labelNames: ["address", "outcome"],
          registers: [registry],
        }),
    ),
    breakerOpen: reuse(
      "arabicstt_inference_breaker_open",
      () =>
        new Gauge({
          name: "arabicstt_inference_breaker_open",
          help: "1 while the circuit breaker of an inference server address refuses requests (open or half-open), else 0.",
          labelNames: ["address"],
          registers: [registry],
        }),
    ),
  };
}
