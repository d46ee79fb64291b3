// Child process of `npm run bench:gateway`: serves the same trivial handler twice, once
// through the full gateway (interceptors, logging to /dev/null, metrics, validation) and
// once on a bare connect-node h2c server, then prints both ports as one JSON line. With `--tracing` the
// process traces as a deployment with OTEL_EXPORTER_OTLP_ENDPOINT does, exporting to a collector stand-in
// here that takes every batch and answers 200, so the spans' recording, batching and serialisation count.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino } from "pino";
import { loadConfig } from "../../services/platform/config/config.js";
import { createLogger } from "../../services/platform/logger.js";
import { createGatewayMetrics } from "../interceptors/metrics.js";
import { Readiness } from "../../services/platform/readiness.js";
import { startGateway } from "../server.js";
import { ListModelsResponseSchema, SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { fixedAuthenticator, testApiKey } from "../testing/auth.js";
import { startTracing } from "../../inference/telemetry/tracing.js";

if (process.argv.includes("--tracing")) {
  const sink = http.createServer((req, res) => req.resume().on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end()));
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  startTracing({ endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, serviceName: "arabicstt-bench" });
}

/** The API key gateway.bench.ts presents; resolving it is part of the stack being measured. */
const BENCH_API_KEY = "astt_bench";

const handler: Partial<ServiceImpl<typeof SpeechService>> = {
  listModels: () => create(ListModelsResponseSchema, {}),
};

const config = loadConfig({ HOST: "127.0.0.1", GRPC_PORT: "0", HTTP_PORT: "0" });
const gateway = await startGateway({
  config,
  // Logging is part of the stack being measured: JSON lines written, to a sink.
  logger: createLogger("info", pino.destination("/dev/null")),
  metrics: createGatewayMetrics(),
  readiness: new Readiness([]),
  routes: (router) => router.service(SpeechService, handler),
  serviceNames: [SpeechService.typeName],
  authenticator: fixedAuthenticator({ [BENCH_API_KEY]: testApiKey({ scopes: ["speech"] }) }),
});

const bare = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(SpeechService, handler) }));
await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));

process.stdout.write(JSON.stringify({ full: gateway.grpcPort, bare: (bare.address() as AddressInfo).port }) + "\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
