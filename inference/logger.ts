// The logger inference writes to: the part of pino's Logger it uses, as a structural type, so the
// process that embeds the client or the sidecar hands over its own pino logger (or a child of it)
// and inference depends on no logging setup of its own.

/** Writes one log line: fields first, then the message. */
export type LogMethod = (fields: object, message?: string) => void;

export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: Record<string, unknown>): Logger;
}
