// npm run bench:gateway [-- --seconds 5 --rounds 3 --concurrency 32 --tracing]
//
// Unary requests/s and p50/p99 latency of a trivial RPC (SpeechService.ListModels answering
// an empty list) through the full gateway stack, side by side with a bare connect-node server
// running the same handler, in one run. The servers run in a child process and the load
// generator (a Connect-ES gRPC client over h2c) here; rounds alternate full/bare so drift on
// a noisy machine hits both. Prints medians over rounds and the full/bare ratio. `--tracing` turns
// OpenTelemetry on in the full gateway (exporting to a local collector stand-in); compare a run with it
// and one without to see what tracing costs per RPC.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ListModelsRequestSchema, SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    tracing: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);

interface RoundResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(port: number, durationMs: number): Promise<RoundResult> {
  const client = createClient(
    SpeechService,
    createGrpcTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      interceptors: [(next) => (req) => (req.header.set("x-api-key", "astt_bench"), next(req))],
    }),
  );
  const request = create(ListModelsRequestSchema, {});
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  // Bounded by time: each worker loops until the deadline.
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        await client.listModels(request);
        latencies.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./bench-servers.ts", import.meta.url)), ...(values.tracing ? ["--tracing"] : [])], {
  stdio: ["pipe", "pipe", "inherit"],
});
const firstLine = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once("line", resolve);
  child.once("exit", (code) => reject(new Error(`bench servers exited with ${code}`)));
});
const ports = JSON.parse(firstLine) as { full: number; bare: number };

console.log(`gateway bench: ${rounds} rounds x ${seconds}s per server, ${concurrency} in flight, gRPC over h2c, client and servers on this machine, tracing ${values.tracing ? "on (OTLP to a local stand-in)" : "off"}`);
await load(ports.full, 1000);
await load(ports.bare, 1000);
const results: Record<"full" | "bare", RoundResult[]> = { full: [], bare: [] };
for (let round = 1; round <= rounds; round++) {
  for (const name of ["full", "bare"] as const) {
    const r = await load(ports[name], seconds * 1000);
    results[name].push(r);
    console.log(`  round ${round} ${name.padEnd(4)}  ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}`);
  }
}
child.stdin!.end();

const summary = (name: "full" | "bare") => ({
  rps: median(results[name].map((r) => r.rps)),
  p50: median(results[name].map((r) => r.p50)),
  p99: median(results[name].map((r) => r.p99)),
});
const full = summary("full");
const bare = summary("bare");
console.log("\nmedians                         req/s    p50 ms    p99 ms");
console.log(`full gateway stack         ${full.rps.toFixed(0).padStart(9)} ${full.p50.toFixed(2).padStart(9)} ${full.p99.toFixed(2).padStart(9)}`);
console.log(`bare connect-node          ${bare.rps.toFixed(0).padStart(9)} ${bare.p50.toFixed(2).padStart(9)} ${bare.p99.toFixed(2).padStart(9)}`);
console.log(`ratio full/bare            ${(full.rps / bare.rps).toFixed(2).padStart(9)} ${(full.p50 / bare.p50).toFixed(2).padStart(9)} ${(full.p99 / bare.p99).toFixed(2).padStart(9)}`);
