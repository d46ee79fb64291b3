// Tracing is off unless a process asks for it, and then spans, carriers and log fields agree on one trace.
import { afterEach, describe, expect, it } from "vitest";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { startTracing, tracesUrl, type Tracing } from "./tracing.js";
import { contextFromCarrier, currentTraceCarrier, inSpan, SpanKind, trace, tracerOf } from "./spans.js";
import { traceLogFields } from "./log-fields.js";

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe("startTracing", () => {
  it("registers nothing without an endpoint: spans record nothing, carriers and log fields stay empty", async () => {
    tracing = startTracing({ serviceName: "arabicstt-test" });
    expect(tracing.enabled).toBe(false);
    await inSpan(tracerOf("test"), "work", {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      expect(currentTraceCarrier()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
    });
  });

  it("with an exporter, nests spans, carries the trace in a carrier and stamps log fields with the active span", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: "arabicstt-test", exporter });
    expect(tracing.enabled).toBe(true);
    const tracer = tracerOf("test");
    let carried: Record<string, string> | undefined;
    let fields: ReturnType<typeof traceLogFields> = {};
    await inSpan(tracer, "outer", { kind: SpanKind.SERVER }, () =>
      inSpan(tracer, "inner", {}, async () => {
        carried = currentTraceCarrier();
        fields = traceLogFields();
      }),
    );
    await expect(inSpan(tracer, "fails", {}, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === "outer")!;
    const inner = spans.find((s) => s.name === "inner")!;
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(outer.resource.attributes["service.name"]).toBe("arabicstt-test");
    expect(carried?.traceparent).toBe(`00-${inner.spanContext().traceId}-${inner.spanContext().spanId}-01`);
    expect(fields).toEqual({ trace_id: inner.spanContext().traceId, span_id: inner.spanContext().spanId, trace_flags: "01" });
    expect(spans.find((s) => s.name === "fails")!.status).toMatchObject({ code: 2, message: "boom" });

    // A consumer continues the carried trace, and nothing the process has active.
    const continued = trace.getSpanContext(contextFromCarrier(carried));
    expect(continued).toMatchObject({ traceId: inner.spanContext().traceId, spanId: inner.spanContext().spanId, isRemote: true });
  });

  it("unregisters the SDK at shutdown: the API is a no-op again", async () => {
    tracing = startTracing({ serviceName: "arabicstt-test", exporter: new InMemorySpanExporter() });
    await tracing.shutdown();
    await inSpan(tracerOf("test"), "after", {}, async (span) => expect(span.isRecording()).toBe(false));
  });

  it("sends spans to the signal's path under the collector's base URL", () => {
    expect(tracesUrl("http://otel-collector:4318")).toBe("http://otel-collector:4318/v1/traces");
    expect(tracesUrl("https://collector.example.com/otlp/")).toBe("https://collector.example.com/otlp/v1/traces");
  });
});
