import { setMaxListeners } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Code, ConnectError, createContextValues, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Config } from "../services/platform/config/config.js";
import type { Logger } from "../services/platform/logger.js";
import type { GatewayMetrics } from "./interceptors/metrics.js";
import type { Readiness } from "../services/platform/readiness.js";
import { Health } from "../proto/gen/grpc/health/v1/health_pb.js";
import { grpcHealthService } from "./health/grpc-health.js";
import { REFLECTION_SERVICE_NAMES, registerServerReflection } from "./reflection/server-reflection.js";
import { applyCors } from "./http/cors.js";
import { applySecurityHeaders } from "./http/security-headers.js";
import { livenessRoute, metricsRoute, readinessRoute, routeHttp, type HttpRoute, type MetricsExposition } from "../services/platform/probes.js";
import { requestContextInterceptor } from "./interceptors/request-context.js";
import { clientGoneKey, InFlight, observeInterceptor } from "./interceptors/observe.js";
import { tracingInterceptor } from "./interceptors/tracing.js";
import { errorMapperInterceptor } from "./interceptors/error-mapper.js";
import { drainInterceptor } from "./interceptors/drain.js";
import { deadlineInterceptor } from "./interceptors/deadline.js";
import { requestChecksInterceptor } from "./interceptors/request-checks.js";
import { authInterceptor, PEER_ADDRESS_HEADER } from "./interceptors/auth.js";
import type { Authenticator } from "../services/identity/model/principal.js";
import { rpcPolicy, type RpcRule } from "../services/identity/auth/rpc-policy.js";
import type { AuditLog } from "../services/identity/audit/audit-log.js";
import type { RateLimits } from "../services/platform/limits/rate-limits.js";
import type { StreamSlots } from "../services/platform/limits/stream-slots.js";
import { streamLimitInterceptor } from "./interceptors/stream-limit.js";
import { SpeechService } from "../proto/gen/arabicstt/v1/speech_pb.js";
import { capturingRoutes, grpcBidiRoute, type GrpcBidiRoute } from "./transport/grpc-bidi.js";
import { clientRoundTripKey } from "../services/platform/client-round-trip.js";
import { http2RoundTrip } from "./http2-round-trip.js";

export interface GatewayOptions {
  config: Pick<Config, "host" | "grpcPort" | "httpPort" | "http" | "limits" | "shutdownGraceMs">;
  logger: Logger;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** Registers the product's services on the router. */
  routes: (router: ConnectRouter) => void;
  /** Full names of the services `routes` registers, for grpc.health.v1. */
  serviceNames: string[];
  /** Plain HTTP routes for the HTTP/1.1 listener (e.g. the filesystem blob store's signed URLs). */
  httpRoutes?: HttpRoute[];
  /** WebSocket endpoints on the HTTP/1.1 listener (telephony media streams); an upgrade none claims is refused. */
  upgradeRoutes?: UpgradeRoute[];
  /** How often grpc.health.v1 Watch re-checks dependencies. Default 5 s. */
  healthWatchIntervalMs?: number;
  /** What /metrics answers with. Default: `metrics.registry`, this process's own. */
  metricsExposition?: MetricsExposition;
  /** Turns credentials into principals for the auth interceptor. */
  authenticator: Authenticator;
  /** Who may call which RPC. Default: the one table in services/identity/auth/rpc-policy.ts. */
  policy?: Readonly<Record<string, RpcRule>>;
  /** Request limits per API key, user and IP; none when left out. */
  limits?: RateLimits;
  /** Where the auth interceptor records permission denials. */
  audit?: Pick<AuditLog, "record">;
  /** Live streams each organisation may hold open at once; unlimited when left out. */
  streamSlots?: StreamSlots;
}

/** RPCs that hold one of the organisation's live-stream slots while open. */
export const LIVE_STREAM_RPCS = ["arabicstt.v1.SpeechService/StreamingRecognize"] as const;

/** Takes an HTTP/1.1 upgrade request (a WebSocket) and returns true, or returns false when the path is not its own. */
export type UpgradeRoute = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface RunningGateway {
  grpcPort: number;
  httpPort: number;
  /** RPCs in flight right now (unary calls and open streams). */
  inFlight(): number;
  /**
   * Graceful stop: refuse new connections and RPCs, let open ones finish for half the
   * grace period, then signal streams to wrap up, then close whatever is left.
   */
  drain(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger, metrics, readiness } = options;
  const inFlight = new InFlight();
  let draining = false;
  // Aborted when draining starts: health watchers report NOT_SERVING and end at once.
  const drainStarted = new AbortController();
  // Aborted half-way through the grace period: every handler's signal fires so long
  // streams can send their last results and end.
  const shutdown = new AbortController();
  // Every RPC in flight links its own signal to these; thousands in flight is normal.
  setMaxListeners(0, shutdown.signal, drainStarted.signal);

  const interceptors = interceptorChain(options, inFlight, () => draining);

  const routes = (router: ConnectRouter) => {
    options.routes(router);
    router.service(
      Health,
      grpcHealthService(readiness, options.serviceNames, {
        watchIntervalMs: options.healthWatchIntervalMs ?? 5000,
        shutdownSignal: drainStarted.signal,
      }),
    );
    // Last, so that it describes every service above.
    registerServerReflection(router);
  };
  const adapterOptions: AdapterOptions = {
    routes,
    interceptors,
    readMaxBytes: config.limits.maxMessageBytes,
    writeMaxBytes: config.limits.maxMessageBytes,
    maxTimeoutMs: config.limits.maxClientDeadlineMs,
    shutdownSignal: shutdown.signal,
    contextValues: transportContext,
  };

  const { grpcServer, sessions } = h2cListener(adapterOptions, config.limits, options.logger);
  const httpServer = http1Listener(adapterOptions, options);

  await Promise.all([
    listen(grpcServer, config.grpcPort, config.host, "GRPC_PORT"),
    listen(httpServer, config.httpPort, config.host, "HTTP_PORT"),
  ]);
  const grpcPort = (grpcServer.address() as AddressInfo).port;
  const httpPort = (httpServer.address() as AddressInfo).port;
  logger.info({ grpc_port: grpcPort, http_port: httpPort }, "gateway listening");

  let drained: Promise<void> | undefined;
  const drain = () =>
    drainServers({
      grpcServer,
      httpServer,
      sessions,
      inFlight,
      readiness,
      logger,
      graceMs: config.shutdownGraceMs,
      refuseNew: () => (draining = true),
      drainStarted,
      shutdown,
    });

  return {
    grpcPort,
    httpPort,
    inFlight: () => inFlight.size,
    drain: () => (drained ??= drain()),
  };
}

type AdapterOptions = Omit<Parameters<typeof connectNodeAdapter>[0], "fallback">;

/**
 * What the interceptors learn of a request's HTTP exchange: whether the client's side is gone. On HTTP/2 its
 * stream was reset (RST_STREAM, or the whole connection dropped) while the server still had it open; on
 * HTTP/1.1 its connection closed (a kept-alive one stays open between requests). On HTTP/2, handlers may
 * also ask the client for a round trip (a PING), to tell a half-close from the start of a cancel.
 */
function transportContext(req: http.IncomingMessage | http2.Http2ServerRequest): ContextValues {
  if (!("stream" in req)) return createContextValues().set(clientGoneKey, () => req.socket.destroyed);
  return createContextValues()
    .set(clientGoneKey, () => req.stream.aborted || req.stream.destroyed)
    .set(clientRoundTripKey, () => http2RoundTrip(req.stream));
}

/**
 * h2c: gRPC, gRPC-Web and Connect for servers and SDKs. Probes, metrics and blobs live on the HTTP/1.1
 * listener only; anything else here is a 404. Its sessions are tracked so a drain can close them.
 *
 * Plain gRPC StreamingRecognize (binary, uncompressed: what every SDK sends for a live call) takes the lean
 * transport of gateway/transport/grpc-bidi.ts, with the same handler, interceptors and limits; everything
 * else is connect-node's.
 */
function h2cListener(
  adapterOptions: AdapterOptions,
  keepalive: { keepaliveMs: number; keepaliveTimeoutMs: number },
  logger: Logger,
): { grpcServer: http2.Http2Server; sessions: Set<http2.ServerHttp2Session> } {
  let leanRoute: GrpcBidiRoute | undefined;
  const grpcHandler = connectNodeAdapter({
    ...adapterOptions,
    routes: capturingRoutes(adapterOptions.routes, SpeechService.method.streamingRecognize, (spec) => {
      leanRoute = grpcBidiRoute(spec, adapterOptions);
    }),
    fallback: (_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not found" }));
    },
  });
  const grpcServer = http2.createServer({}, (req, res) => {
    req.headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? "";
    if (leanRoute?.(req, res)) return;
    void grpcHandler(req, res);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  grpcServer.on("session", (session) => {
    sessions.add(session);
    // A connection that went silent (a dead NAT, a pulled cable) is found by PING: its streams are
    // dropped, and live sessions wait for their clients to resume them, instead of idling out.
    // Node's http2 has no server keepalive of its own (grpc-js servers have keepalive_time_ms).
    const pinger = setInterval(() => {
      if (session.closed || session.destroyed) return;
      const timer = setTimeout(() => {
        logger.info({ peer: session.socket?.remoteAddress }, "closing a connection that did not answer a keepalive PING");
        session.destroy();
      }, keepalive.keepaliveTimeoutMs);
      timer.unref();
      const sent = session.ping(() => clearTimeout(timer));
      if (!sent) clearTimeout(timer);
    }, keepalive.keepaliveMs);
    pinger.unref();
    session.on("close", () => {
      clearInterval(pinger);
      sessions.delete(session);
    });
  });
  return { grpcServer, sessions };
}

/** HTTP/1.1: Connect and gRPC-Web for browsers, behind the CORS allowlist, plus probes, metrics and `httpRoutes`. */
function http1Listener(adapterOptions: AdapterOptions, options: GatewayOptions): http.Server {
  const httpFallback = routeHttp([
    livenessRoute(),
    readinessRoute(options.readiness),
    metricsRoute(options.metricsExposition ?? options.metrics.registry),
    ...(options.httpRoutes ?? []),
  ]);
  const browserHandler = connectNodeAdapter({
    ...adapterOptions,
    fallback: (req, res) => void httpFallback(req as http.IncomingMessage, res as http.ServerResponse),
  });
  const server = http.createServer((req, res) => {
    applySecurityHeaders(res);
    if (applyCors(req, res, options.config.http.corsOrigins)) return;
    req.headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? "";
    void browserHandler(req, res);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    req.headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? "";
    if ((options.upgradeRoutes ?? []).some((route) => route(req, socket, head))) return;
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  return server;
}

/**
 * The interceptors in order; the first is outermost. Observation sees the mapped code; the request id is
 * echoed on every outcome; the span of the RPC holds everything below it, the observer's log line included; an unauthenticated caller learns nothing from validation; validation runs
 * before any handler, then the field policy refuses the well-formed fields the platform does not apply
 * (services/app/contract/request-fields.ts).
 */
function interceptorChain(options: GatewayOptions, inFlight: InFlight, draining: () => boolean): Interceptor[] {
  return [
    requestContextInterceptor(options.logger),
    tracingInterceptor(),
    observeInterceptor(options.metrics, inFlight),
    errorMapperInterceptor(),
    drainInterceptor(draining),
    deadlineInterceptor(options.config.limits.unaryDeadlineMs),
    authInterceptor({
      authenticator: options.authenticator,
      policy: options.policy ?? rpcPolicy,
      openServices: [Health.typeName, ...REFLECTION_SERVICE_NAMES],
      limits: options.limits,
      audit: options.audit,
    }),
    ...(options.streamSlots ? [streamLimitInterceptor(options.streamSlots, LIVE_STREAM_RPCS)] : []),
    // Validation, then the field policy, in one layer (gateway/interceptors/request-checks.ts).
    requestChecksInterceptor(),
  ];
}

interface DrainTargets {
  grpcServer: http2.Http2Server;
  httpServer: http.Server;
  sessions: Set<http2.ServerHttp2Session>;
  inFlight: InFlight;
  readiness: Readiness;
  logger: Logger;
  graceMs: number;
  /** Makes the drain interceptor refuse new RPCs. */
  refuseNew(): void;
  drainStarted: AbortController;
  shutdown: AbortController;
}

/**
 * Graceful stop: refuse new connections and RPCs, let open ones finish for half the grace period, then
 * signal streams to wrap up (every handler's signal fires), then close whatever is left.
 */
async function drainServers(t: DrainTargets): Promise<void> {
  t.refuseNew();
  t.readiness.markDraining();
  t.drainStarted.abort();
  t.logger.info({ in_flight: t.inFlight.size }, "draining");
  const closed = Promise.all([closeServer(t.grpcServer), closeServer(t.httpServer)]);
  for (const session of t.sessions) session.close();
  t.httpServer.closeIdleConnections();

  const deadline = Date.now() + t.graceMs;
  if (!(await settlesWithin(t.inFlight.idle(), t.graceMs / 2))) {
    t.logger.info({ in_flight: t.inFlight.size }, "asking open streams to finish");
    t.shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
    if (!(await settlesWithin(t.inFlight.idle(), deadline - Date.now()))) {
      t.logger.warn({ in_flight: t.inFlight.size }, "grace period over with RPCs still open");
    }
  }
  // Handlers are done, but their last bytes may still be on their way: connections
  // close on their own once flushed (GOAWAY'd sessions end with their last stream).
  t.httpServer.closeIdleConnections();
  if (!(await settlesWithin(closed.then(() => undefined), Math.max(deadline - Date.now(), 1000)))) {
    t.logger.warn({ sessions: t.sessions.size }, "closing remaining connections");
    for (const session of t.sessions) session.destroy();
    t.httpServer.closeAllConnections();
    await closed;
  }
  t.logger.info("drained");
}

function listen(server: http.Server | http2.Http2Server, port: number, host: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${host}:${port} (${variable}): ${err.code ?? err.message}`));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
