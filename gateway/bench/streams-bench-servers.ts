// Child process of `npm run bench:streams`: the gateway as `npm start` runs it (the platform
// root, gateway/platform.ts, on the embedded database under a fresh DATA_DIR) with its models
// on the sidecar process named in argv (TRITON_URL, as a production gateway reaches Triton), and
// a bare @grpc/grpc-js server whose StreamingRecognize echoes one empty response per request, and the
// same echo on the gateway's own transports (node:http2 with connect-node, and the lean gRPC path of
// gateway/transport/grpc-bidi.ts; no interceptors).
// Registers an account and makes it a speech API key, then prints one JSON line: both ports and
// the key. Stops when its stdin closes. (The parent reads CPU times from /proc.)
//
// With gatewayProcesses above 1 (needs DATABASE_URL and REDIS_URL), this process is the primary of that many
// gateway workers on one port (gateway/cluster.ts, as GATEWAY_PROCESSES runs them): each worker runs this
// file too, and only starts the platform; the primary keeps the echo servers and the rest. The parent's CPU
// reading walks the whole process tree, workers included.
//
// argv[2]: JSON { sidecar: "host:port", dataDir: string, gatewayProcesses?: number }.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { loadConfig } from "../../services/platform/config/config.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";
import { createLogger } from "../../services/platform/logger.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../proto/gen/arabicstt/v1/auth_pb.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { startPlatform } from "../platform.js";
import { announceStarted, clusterMetricsExposition, isGatewayWorker, superviseGatewayProcesses } from "../cluster.js";
import { loadGrpcJsPackage } from "../testing/clients.js";
import { UNTHROTTLED } from "../testing/platform.js";
import { withHeaders } from "../testing/clients.js";
import { capturingRoutes, grpcBidiRoute, type GrpcBidiRoute } from "../transport/grpc-bidi.js";

const { sidecar, dataDir, gatewayProcesses = 1 } = JSON.parse(process.argv[2] ?? "{}") as { sidecar: string; dataDir: string; gatewayProcesses?: number };
const services = testEnvironment();
const config = loadConfig({
  HOST: "127.0.0.1",
  GRPC_PORT: "0",
  HTTP_PORT: "0",
  DATA_DIR: dataDir,
  TRITON_URL: sidecar,
  LOG_LEVEL: "info",
  CLEANUP_INTERVAL_SECONDS: "0",
  // A deployment's PostgreSQL and Redis when the bench is given them (the embedded defaults otherwise),
  // read where the test suites read them: lint:env keeps the environment to the config modules.
  ...(services.databaseUrl ? { DATABASE_URL: services.databaseUrl } : {}),
  ...(services.redisUrl ? { REDIS_URL: services.redisUrl } : {}),
  // One organisation carries every stream of the load.
  ...UNTHROTTLED,
  GATEWAY_PROCESSES: String(gatewayProcesses),
});
// Logging is part of the stack being measured: JSON lines written, to a sink.
const logger = createLogger("info", pino.destination("/dev/null"));

if (isGatewayWorker()) {
  // One of the primary's gateway workers: the platform only, until the primary passes SIGTERM on.
  const platform = await startPlatform(config, logger, {}, { metricsExposition: clusterMetricsExposition });
  process.on("SIGTERM", () => void platform.stop().finally(() => process.exit(0)));
  announceStarted({ grpcPort: platform.gateway.grpcPort, httpPort: platform.gateway.httpPort });
} else {
  await serveBench();
}

/** The gateway (one process, or a primary and its workers), then the echo servers, the account, and the JSON line. */
async function serveBench(): Promise<void> {
  const gateway = await startBenchGateway();

  // Authentication is part of the stack being measured: an API key checked on every stream.
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${gateway.grpcPort}` });
  const registered = await createClient(AuthService, transport).register({
    email: `streams-bench-${process.pid}@example.com`,
    password: "كلمة سر طويلة 2026",
    displayName: "قياس",
    organizationName: "مركز اتصال القياس",
  });
  const keys = createClient(ApiKeyService, withHeaders(transport, { authorization: `Bearer ${registered.tokens!.accessToken}` }));
  const { secret: apiKey } = await keys.createApiKey({ name: "streams-bench", scopes: [ApiKeyScope.SPEECH] });

  // The bare server: the same method on the wire, no engine, one empty response per request.
  const pkg = loadGrpcJsPackage() as unknown as { arabicstt: { v1: { SpeechService: grpc.ServiceClientConstructor } } };
  const bare = new grpc.Server();
  bare.addService(pkg.arabicstt.v1.SpeechService.service, {
    StreamingRecognize: (call: grpc.ServerDuplexStream<unknown, object>) => {
      call.on("data", () => call.write({}));
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
  });
  const barePort = await new Promise<number>((resolve, reject) =>
    bare.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  // The transport alone: the gateway's server stack (node:http2 and connect-node) with no interceptors
  // and no engine, one empty response per request, as the bare grpc-js server answers.
  const connectEcho = http2.createServer(
    connectNodeAdapter({
      routes: (router: ConnectRouter) =>
        router.rpc(SpeechService.method.streamingRecognize, async function* (requests) {
          for await (const _ of requests) yield {};
        }),
    }),
  );
  await new Promise<void>((resolve) => connectEcho.listen(0, "127.0.0.1", resolve));
  const connectEchoPort = (connectEcho.address() as AddressInfo).port;

  // The same echo on the gateway's lean gRPC path (gateway/transport/grpc-bidi.ts, connect-node behind it
  // for anything else), as the gateway's h2c listener serves StreamingRecognize.
  const echoRoutes = (router: ConnectRouter) =>
    router.rpc(SpeechService.method.streamingRecognize, async function* (requests) {
      for await (const _ of requests) yield {};
    });
  let leanRoute: GrpcBidiRoute | undefined;
  const leanFallback = connectNodeAdapter({
    routes: capturingRoutes(echoRoutes, SpeechService.method.streamingRecognize, (spec) => (leanRoute = grpcBidiRoute(spec, {}))),
  });
  const leanEcho = http2.createServer((req, res) => {
    if (!leanRoute?.(req, res)) void leanFallback(req, res);
  });
  await new Promise<void>((resolve) => leanEcho.listen(0, "127.0.0.1", resolve));
  const leanEchoPort = (leanEcho.address() as AddressInfo).port;

  process.stdout.write(JSON.stringify({ full: gateway.grpcPort, bare: barePort, connectEcho: connectEchoPort, leanEcho: leanEchoPort, apiKey }) + "\n");
  const lines = createInterface({ input: process.stdin });
  lines.resume();
  lines.on("close", () => {
    bare.forceShutdown();
    connectEcho.close();
    leanEcho.close();
    void gateway.stop().finally(() => process.exit(0));
  });
}

async function startBenchGateway(): Promise<{ grpcPort: number; stop(): Promise<unknown> }> {
  if (config.gatewayProcesses === 1) {
    const platform = await startPlatform(config, logger);
    return { grpcPort: platform.gateway.grpcPort, stop: () => platform.stop() };
  }
  const primary = superviseGatewayProcesses({ processes: config.gatewayProcesses, logger });
  const { grpcPort } = await primary.started;
  return { grpcPort, stop: () => primary.stop("SIGTERM") };
}
