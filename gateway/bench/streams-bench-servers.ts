// Child process of `npm run bench:streams`: the full gateway with the live engine on a local
// sidecar (dtmf model), and a bare @grpc/grpc-js server whose StreamingRecognize echoes one
// empty response per request. Prints both ports as one JSON line; then answers each line "cpu"
// on stdin with this process's CPU time so far (microseconds), so the parent can charge CPU to
// the load it sends.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { createInferenceClient } from "../../inference/client/index.js";
import { startSidecar } from "../../inference/local/server.js";
import { createStreamDecoder } from "../../services/audio/index.js";
import { loadConfig } from "../../services/platform/config/config.js";
import { LiveRecognizer } from "../../services/speech/live-recognition.js";
import { ModelCatalog } from "../../services/models/catalog.js";
import { createLogger } from "../../services/platform/logger.js";
import { Readiness } from "../../services/platform/readiness.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { createGatewayMetrics } from "../interceptors/metrics.js";
import { productRoutes } from "../routes.js";
import { productServiceNames } from "../../services/app/product-services.js";
import { startGateway } from "../server.js";
import { speechService } from "../../services/speech/speech-service.js";
import { loadGrpcJsPackage } from "../testing/clients.js";
import { fixedAuthenticator, testApiKey } from "../testing/auth.js";

/** The key the load generator sends (streams.bench.ts). */
const STREAMS_BENCH_API_KEY = "astt_streams_bench";

const logger = pino({ level: "silent" });
const sidecar = await startSidecar({
  host: "127.0.0.1",
  port: 0,
  modelsDir: fileURLToPath(new URL("../../inference/models/", import.meta.url)),
  weightsDir: await mkdtemp(join(tmpdir(), "arabicstt-bench-weights-")),
  logger,
});
const inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });
const config = loadConfig({ HOST: "127.0.0.1", GRPC_PORT: "0", HTTP_PORT: "0" });
const models = new ModelCatalog(inference, { defaultModel: config.jobs.defaultModel });
const recognizer = new LiveRecognizer({ inference, models, createDecoder: createStreamDecoder });
const gateway = await startGateway({
  config,
  // Logging is part of the stack being measured: JSON lines written, to a sink.
  logger: createLogger("info", pino.destination("/dev/null")),
  metrics: createGatewayMetrics(),
  readiness: new Readiness([]),
  routes: productRoutes({ [SpeechService.typeName]: speechService({ recognizer, catalog: models }) }),
  serviceNames: productServiceNames,
  // Authentication is part of the stack being measured: an API key checked on every stream.
  authenticator: fixedAuthenticator({ [STREAMS_BENCH_API_KEY]: testApiKey({ scopes: ["speech"] }) }),
});

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

process.stdout.write(JSON.stringify({ full: gateway.grpcPort, bare: barePort }) + "\n");
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "cpu") {
    const { user, system } = process.cpuUsage();
    process.stdout.write(JSON.stringify({ cpu: user + system }) + "\n");
  }
});
lines.on("close", () => process.exit(0));
