// Spans around our own steps, and W3C trace context in the carriers our boundaries use (gRPC metadata, job
// data). With tracing off the API hands out non-recording spans and the propagators write nothing.
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanKind, type TextMapGetter, type TextMapSetter, type Tracer } from "@opentelemetry/api";

export { SpanKind, SpanStatusCode, context, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";

/** The tracer of one part of the platform ("arabicstt.gateway", "arabicstt.jobs", …). */
export function tracerOf(name: string): Tracer {
  return trace.getTracer(name);
}

/**
 * Runs `work` inside a new active span, ending it when `work` settles; a throw marks the span an error
 * (with the exception recorded) and is rethrown.
 */
export async function inSpan<T>(tracer: Tracer, name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks the span failed with `err`. */
export function failSpan(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Trace context as plain string fields (`traceparent`, `tracestate`): what a queued job carries. */
export type TraceCarrier = Record<string, string>;

/** The active context's trace as a carrier; undefined when there is none to carry (tracing off, no span). */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * The context a carrier describes, on top of the root context: a server or consumer continues the trace
 * its message carries and nothing the process happened to have active.
 */
export function contextFromCarrier<C>(carrier: C | undefined, getter?: TextMapGetter<C>): Context {
  if (carrier === undefined) return ROOT_CONTEXT;
  return getter ? propagation.extract(ROOT_CONTEXT, carrier, getter) : propagation.extract(ROOT_CONTEXT, carrier);
}

/** Writes `ctx`'s trace into `carrier` with `setter` (gRPC metadata, HTTP headers). */
export function injectTrace<C>(ctx: Context, carrier: C, setter: TextMapSetter<C>): void {
  propagation.inject(ctx, carrier, setter);
}

/**
 * gRPC metadata (grpc-js's `Metadata`) as a propagation carrier, typed structurally so that this module
 * needs no gRPC library.
 */
export interface MetadataLike {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}

export const metadataGetter: TextMapGetter<MetadataLike> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).map(String);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

export const metadataSetter: TextMapSetter<MetadataLike> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

/**
 * gRPC codes that make a server span an error, as OpenTelemetry's RPC conventions list them: UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. The rest (a bad argument, a denied
 * permission) are the caller's outcome, set on the span as its status code but not as a failure of the server.
 */
export function isServerError(grpcCode: number): boolean {
  return [2, 4, 12, 13, 14, 15].includes(grpcCode);
}
