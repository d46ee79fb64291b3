import { pino, type Logger, type LevelWithSilent } from "pino";
import { traceLogFields } from "../../inference/telemetry/log-fields.js";

export type { Logger };

/**
 * JSON logs to stdout, one object per line, stamped with the process role ("gateway",
 * "worker"); every line of a request carries request_id (services/platform/request-context.ts, filled in by the gateway),
 * and every line written inside a span its trace_id and span_id (inference/telemetry/log-fields.ts).
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream, role = "gateway"): Logger {
  return pino(
    {
      level,
      base: { service: `arabicstt-${role}` },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceLogFields,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.secret"], censor: "[redacted]" },
    },
    destination,
  );
}
