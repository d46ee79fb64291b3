// npm run bench:tracing [-- --calls 20000 --rounds 5]
//
// What the tracing interceptor costs per RPC, in CPU time, without the network: unary calls of a trivial
// handler through an in-process Connect transport with the request-context interceptor alone ("none"),
// with the tracing interceptor and no SDK registered ("off", what a deployment without
// OTEL_EXPORTER_OTLP_ENDPOINT runs), and with the SDK exporting OTLP to a local stand-in that answers 200
// ("on"). Rounds alternate the three so that drift on a busy machine hits each; prints the medians in µs
// per call and the differences to "none".
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { pino } from "pino";
import { ListModelsRequestSchema, ListModelsResponseSchema, SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { createLogger } from "../../services/platform/logger.js";
import { startTracing, type Tracing } from "../../inference/telemetry/tracing.js";
import { requestContextInterceptor } from "../interceptors/request-context.js";
import { tracingInterceptor } from "../interceptors/tracing.js";

const { values } = parseArgs({ options: { calls: { type: "string", default: "20000" }, rounds: { type: "string", default: "5" } } });
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const logger = createLogger("info", pino.destination("/dev/null"));

const sink = http.createServer((req, res) => req.resume().on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end()));
await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

/** µs per call of `calls` sequential unary calls through `interceptors` (made after tracing is set up). */
async function measure(interceptors: () => Interceptor[]): Promise<number> {
  const transport = createRouterTransport((router) => router.service(SpeechService, { listModels: () => create(ListModelsResponseSchema, {}) }), { router: { interceptors: interceptors() } });
  const client = createClient(SpeechService, transport);
  const request = create(ListModelsRequestSchema, {});
  for (let i = 0; i < 1000; i++) await client.listModels(request);
  const started = process.cpuUsage();
  for (let i = 0; i < calls; i++) await client.listModels(request);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / calls;
}

const phases = {
  none: async () => measure(() => [requestContextInterceptor(logger)]),
  off: async () => measure(() => [requestContextInterceptor(logger), tracingInterceptor()]),
  on: async () => {
    const tracing: Tracing = startTracing({ endpoint, serviceName: "arabicstt-bench" });
    try {
      return await measure(() => [requestContextInterceptor(logger), tracingInterceptor()]);
    } finally {
      await tracing.shutdown();
    }
  },
};

console.log(`tracing bench: ${rounds} rounds x ${calls} unary calls in process, CPU µs per call (user + system, this process: client, server and exporter)`);
const results: Record<keyof typeof phases, number[]> = { none: [], off: [], on: [] };
for (let round = 1; round <= rounds; round++) {
  const line: string[] = [];
  for (const name of ["none", "off", "on"] as const) {
    const us = await phases[name]();
    results[name].push(us);
    line.push(`${name} ${us.toFixed(1)}`);
  }
  console.log(`  round ${round}: ${line.join("  ")}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const none = median(results.none);
console.log(`\nmedians (µs/call)  none ${none.toFixed(1)}  off ${median(results.off).toFixed(1)} (+${(median(results.off) - none).toFixed(1)})  on ${median(results.on).toFixed(1)} (+${(median(results.on) - none).toFixed(1)})`);
sink.close();
