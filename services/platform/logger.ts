import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/**
 * JSON logs to stdout, one object per line, stamped with the process role ("gateway",
 * "worker"); every line of a request carries request_id (services/platform/request-context.ts, filled in by the gateway).
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream, role = "gateway"): Logger {
  return pino(
    {
      level,
      base: { service: `arabicstt-${role}` },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.secret"], censor: "[redacted]" },
    },
    destination,
  );
}
