// The metrics every telephony adapter exports, one set of families per adapter (`arabicstt_<adapter>_…`), so
// a dashboard shows Twilio, AudioSocket and AudioHook side by side and an alert can name the one that fails:
// calls open now, calls ended by outcome, audio frames and bytes taken, and errors by reason. The platform
// makes them whether or not an adapter is turned on (gateway/platform.ts), so /metrics always carries the
// families the dashboards query.
import { Counter, Gauge, type Registry } from "prom-client";

export interface TelephonyMetrics {
  /** Calls in progress. */
  active: Gauge;
  /** Calls ended, by the adapter's outcome label. */
  ended: Counter<string>;
  /** Audio frames taken (a Twilio media message, an AudioSocket audio frame, an AudioHook binary message). */
  frames: Counter;
  /** Audio bytes taken, as they came over the wire (μ-law bytes, 16-bit samples). */
  bytes: Counter;
  /** Protocol errors and refusals, by reason: malformed input, refused by the platform, idle, too slow, failed. */
  errors: Counter<"reason">;
}

export interface TelephonyMetricNames {
  /** The adapter's prefix, e.g. `arabicstt_twilio`. */
  prefix: string;
  /** What one call is, in help texts ("Twilio media streams"). */
  what: string;
  /** The label `<prefix>_calls_total` splits by, and what its values mean. */
  outcome: { label: string; help: string };
  /** What the frames and bytes counters count, in help texts. */
  frames: string;
  bytes: string;
}

export function telephonyMetrics(registry: Registry | undefined, names: TelephonyMetricNames): TelephonyMetrics {
  const registers = registry ? [registry] : [];
  return {
    active: new Gauge({ name: `${names.prefix}_calls_active`, help: `${names.what} open right now.`, registers }),
    ended: new Counter({ name: `${names.prefix}_calls_total`, help: `${names.what} ended, by ${names.outcome.help}.`, labelNames: [names.outcome.label], registers }),
    frames: new Counter({ name: `${names.prefix}_frames_total`, help: `${names.frames} taken from ${names.what}.`, registers }),
    bytes: new Counter({ name: `${names.prefix}_audio_bytes_total`, help: `${names.bytes} taken from ${names.what}.`, registers }),
    errors: new Counter({
      name: `${names.prefix}_errors_total`,
      help: `${names.what} errors and refusals, by reason (malformed, refused, unauthorized, idle, too_slow, failed, …).`,
      labelNames: ["reason"],
      registers,
    }),
  };
}
