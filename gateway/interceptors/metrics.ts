import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { LiveDropReason, LiveSessionOutcome, LiveStreamObserver } from "../../services/speech/live-observer.js";

const liveBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A result's lag behind its audio: a few milliseconds when the engine keeps up, seconds when it falls behind. */
const lagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// Every label value, so that each series exists (at 0) from the first scrape and rate() over it is defined.
// Records over the union types: a value added there fails to compile here until it is listed.
const outcomes: Record<LiveSessionOutcome, true> = { closed: true, failed: true, abandoned: true };
const dropReasons: Record<LiveDropReason, true> = { cancelled: true, silent: true, drain: true };
const resumePlaces: Record<Parameters<LiveStreamObserver["resumed"]>[0], true> = { local: true, takeover: true };

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
  /** Resumable live streams (services/speech/live-observer.ts): sessions held, how they end, drops, resumes, replays, lag. */
  liveSessionsActive: Gauge;
  liveSessionsEnded: Counter<"outcome">;
  liveDrops: Counter<"reason">;
  liveResumes: Counter<"where">;
  liveReplayedOutputs: Counter;
  liveLag: Histogram;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: GatewayMetrics = {
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
    liveSessionsActive: new Gauge({
      name: "arabicstt_live_sessions_active",
      help: "Live sessions this replica holds right now, streaming or waiting for their client to resume.",
      registers: [registry],
    }),
    liveSessionsEnded: new Counter({
      name: "arabicstt_live_sessions_ended_total",
      help: "Live sessions ended for good on this replica, by outcome (closed by the client, failed, abandoned after the resume grace period).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    liveDrops: new Counter({
      name: "arabicstt_live_drops_total",
      help: "Live stream clients gone without closing (they may resume), by reason (cancelled, silent, drain).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    liveResumes: new Counter({
      name: "arabicstt_live_resumes_total",
      help: "Live sessions resumed by their client, by where: on the replica that held it (local) or taken over from another one (takeover).",
      labelNames: ["where"],
      registers: [registry],
    }),
    liveReplayedOutputs: new Counter({
      name: "arabicstt_live_replayed_outputs_total",
      help: "Kept live outputs sent again to resuming clients.",
      registers: [registry],
    }),
    liveLag: new Histogram({
      name: "arabicstt_live_lag_seconds",
      help: "Live recognition: from the arrival of the audio a result ends in to the result's sending.",
      buckets: lagBuckets,
      registers: [registry],
    }),
  };
  for (const outcome of Object.keys(outcomes)) metrics.liveSessionsEnded.inc({ outcome }, 0);
  for (const reason of Object.keys(dropReasons)) metrics.liveDrops.inc({ reason }, 0);
  for (const where of Object.keys(resumePlaces)) metrics.liveResumes.inc({ where }, 0);
  return metrics;
}

/**
 * The live stream observer that feeds these metrics. The active gauge follows the sessions this replica
 * holds: one started or taken over here counts, one ended or handed over to another replica stops counting.
 */
export function liveStreamObserver(metrics: GatewayMetrics): LiveStreamObserver {
  return {
    sessionStarted: () => metrics.liveSessionsActive.inc(),
    sessionEnded: (outcome) => {
      metrics.liveSessionsActive.dec();
      metrics.liveSessionsEnded.inc({ outcome });
    },
    sessionHandedOver: () => metrics.liveSessionsActive.dec(),
    dropped: (reason) => metrics.liveDrops.inc({ reason }),
    resumed: (where) => {
      // A session taken over from another (or a dead) replica is held here from now on; it ends here too.
      if (where === "takeover") metrics.liveSessionsActive.inc();
      metrics.liveResumes.inc({ where });
    },
    replayed: (outputs) => metrics.liveReplayedOutputs.inc(outputs),
    lag: (seconds) => metrics.liveLag.observe(seconds),
  };
}
