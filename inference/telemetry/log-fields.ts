// The trace a log line belongs to: pino's mixin adds these fields to every line written while a span is
// active, so a line found in the logs leads to its trace and a trace to its lines.
import { isSpanContextValid, trace } from "@opentelemetry/api";

export interface TraceLogFields {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}

/** `{trace_id, span_id, trace_flags}` of the active span, or nothing outside a span (and with tracing off). */
export function traceLogFields(): TraceLogFields {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ids = span.spanContext();
  if (!isSpanContextValid(ids)) return {};
  return { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: `0${ids.traceFlags.toString(16)}`.slice(-2) };
}
