// A logger whose JSON lines a test can read back: what the platform logged, parsed, in order.
import { Writable } from "node:stream";
import type { LevelWithSilent } from "pino";
import { createLogger, type Logger } from "../../services/platform/logger.js";

export function capturedLogger(level: LevelWithSilent): { logs: Array<Record<string, unknown>>; logger: Logger } {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logs, logger: createLogger(level, sink) };
}

/** A logger that writes nothing, for the parts of a harness whose lines no test reads. */
export function silentLogger(): Logger {
  return createLogger("silent");
}
