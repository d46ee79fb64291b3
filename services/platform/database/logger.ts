import type { Logger as MikroLogger, LogContext, LoggerNamespace } from "@mikro-orm/core";
import type { Logger } from "pino";

// MikroORM colours names and numbers for terminals; JSON logs want plain text.
const ANSI_COLOURS = /\u001b\[[0-9;]*m/g;

/**
 * MikroORM's log lines, sent to the process's pino logger as structured records: errors and warnings always,
 * its own chatter at debug, SQL at trace. Parameter values are never logged: they carry password hashes,
 * token hashes and emails.
 */
export class PinoMikroLogger implements MikroLogger {
  constructor(private readonly pino?: Logger) {}

  log(namespace: LoggerNamespace | string, message: string, context?: LogContext): void {
    const pino = this.pino;
    if (!pino) return;
    const level =
      context?.level === "error" ? "error" : context?.level === "warning" ? "warn" : namespace === "query" ? "trace" : "debug";
    if (!pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = { namespace };
    if (context?.took !== undefined) fields.tookMs = context.took;
    if (context?.label) fields.label = context.label;
    pino[level](fields, message.replace(ANSI_COLOURS, "").replace(/\s+/g, " ").trim());
  }

  error(namespace: LoggerNamespace | string, message: string, context?: LogContext): void {
    this.log(namespace, message, { ...context, level: "error" });
  }

  warn(namespace: LoggerNamespace | string, message: string, context?: LogContext): void {
    this.log(namespace, message, { ...context, level: "warning" });
  }

  logQuery(context: LogContext): void {
    // A failed query also surfaces as the error thrown to the caller, so it stays at trace like the rest.
    if (context.query) this.log("query", context.query, { ...context, level: undefined });
  }

  /** The pino level decides what is logged, not MikroORM's debug switch. */
  setDebugMode(): void {}

  isEnabled(namespace: LoggerNamespace): boolean {
    if (namespace === "query-params") return false;
    return this.pino?.isLevelEnabled(namespace === "query" ? "trace" : "debug") ?? false;
  }
}
