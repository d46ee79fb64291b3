// Tracing for every process of the platform (gateway, worker, sidecar): the OpenTelemetry SDK a process's
// main starts from its config, exporting spans as OTLP (protobuf over HTTP) when an endpoint is set.
// Without one nothing is registered and the instrumented code runs against the API's no-op tracer, so a
// deployment that does not trace pays for a few no-op calls per RPC and nothing more.
// Importing this module starts nothing: only startTracing does, once, at a composition root.
import { context, propagation, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

export interface TracingSettings {
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (`http://otel-collector:4318`); spans go to
   * `<endpoint>/v1/traces`, as the OpenTelemetry specification says. Unset: tracing is off.
   */
  endpoint?: string;
  /** OTEL_SERVICE_NAME, the `service.name` every span of the process carries. */
  serviceName: string;
  serviceVersion?: string;
  /** Where spans go instead of OTLP (tests that read spans in process). */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly enabled: boolean;
  /** Exports the spans ended so far (tests; a process about to exit). */
  flush(): Promise<void>;
  /** Exports what is left and unregisters the SDK; the API is a no-op again afterwards. */
  shutdown(): Promise<void>;
}

const off: Tracing = { enabled: false, flush: async () => undefined, shutdown: async () => undefined };

/**
 * Registers the SDK globally (tracer provider, AsyncLocalStorage context manager, W3C trace-context and
 * baggage propagators) when `endpoint` or `exporter` is given; otherwise registers nothing.
 */
export function startTracing(settings: TracingSettings): Tracing {
  const exporter = settings.exporter ?? (settings.endpoint ? new OTLPTraceExporter({ url: tracesUrl(settings.endpoint) }) : undefined);
  if (!exporter) return off;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      ...(settings.serviceVersion ? { [ATTR_SERVICE_VERSION]: settings.serviceVersion } : {}),
    }),
    // Batches leave on a timer, off the request path; a full queue drops spans rather than holding requests.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        context.disable();
        propagation.disable();
      })),
  };
}

/** `<endpoint>/v1/traces`: the signal's path appended to the base URL, whatever path the base has. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}
