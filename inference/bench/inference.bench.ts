// npm run bench:inference [-- --rounds 5 --seconds 120 --dtmf-seconds 600 --clip-seconds 30
//                              --calls 500 --concurrency 16 --load-seconds 2] [-- --quick]
//
// What the local sidecar costs, measured in one process: the sidecar (inference/local/server.ts,
// vad and dtmf only) listens on loopback and the inference client calls it, so one JS thread runs
// the client, the gRPC server and the models. onnxruntime-node runs the VAD session on that thread
// (session.run is synchronous behind a setImmediate; the session has 1 intra-op thread) and DTMF is
// plain TypeScript, so the sidecar uses one core; grpc-js, libuv and the GC add a little elsewhere.
//
// 1. VAD and 2. DTMF throughput in multiples of real time (×RT = seconds of audio / seconds taken),
//    one request per clip, one request at a time:
//      model alone  the model's LocalModel.infer called directly on the same clips: the baseline.
//      gRPC         client.vad / client.transcribe("dtmf") to the sidecar: the tensors encoded, sent
//                   over loopback HTTP/2, checked against config.pbtxt, run, answered and decoded.
//      ×RT/core     wall-clock ×RT divided by the one core the sidecar uses.
//      ×RT/CPU-s    audio seconds per second of process CPU time (process.cpuUsage, every thread):
//                   the honest per-core figure on a shared machine, where waiting for a core that
//                   another process holds stretches the wall clock but costs no CPU time.
//      cpu/wall     CPU seconds per wall second: near 1 when the one thread was busy throughout.
//    "outside the model" is (gRPC − model alone) / gRPC, of wall and of CPU time: what transport,
//    checks and encoding add to a request.
// 3. Client overhead per ModelInfer: one small request (vad on one 512-sample frame, [1, 512]) sent
//    by a raw grpc-js client built with proto-loader (hand-built message, no policy), by
//    client.infer (deadline, retry, breaker, metrics, tensor encoding and decoding) and by
//    client.vad (also the cached config and its contract check). Sequential p50/p99 latency, then
//    req/s and process CPU µs per call with --concurrency calls in flight. The overhead is the
//    median over rounds of each round's difference to raw; the ratio is client / raw.
//
// Each round runs every variant in turn, the order reversed every other round, so drift on a busy
// machine hits them all alike; the tables hold medians over rounds. Higher ×RT and req/s are better.
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { pino } from "pino";
import { createInferenceClient, type InferRequest } from "../client/index.js";
import type { LocalModel, Tensor } from "../local/models/model.js";
import { localModels, type LocalModelFactory } from "../local/models/index.js";
import { startSidecar } from "../local/server.js";
import { loadRepository } from "../repository/repository.js";
import { dtmfAudio, speechAudio, type BenchAudio } from "./bench-audio.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    "dtmf-seconds": { type: "string" },
    "clip-seconds": { type: "string" },
    calls: { type: "string" },
    concurrency: { type: "string" },
    "load-seconds": { type: "string" },
  },
});
// --quick only changes the defaults: a smoke run in well under 20 s.
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 3 : 5));
const vadSeconds = Number(values.seconds ?? (quick ? 20 : 120));
const dtmfSeconds = Number(values["dtmf-seconds"] ?? (quick ? 60 : 600));
const clipSeconds = Number(values["clip-seconds"] ?? 30);
const calls = Number(values.calls ?? (quick ? 100 : 500));
const concurrency = Number(values.concurrency ?? 16);
const loadSeconds = Number(values["load-seconds"] ?? (quick ? 0.4 : 2));
const settings = { rounds, seconds: vadSeconds, "dtmf-seconds": dtmfSeconds, "clip-seconds": clipSeconds, calls, concurrency, "load-seconds": loadSeconds };
const counts = new Set(["rounds", "calls", "concurrency"]);
for (const [flag, value] of Object.entries(settings)) {
  const whole = counts.has(flag);
  if (!(value > 0) || (whole && !Number.isInteger(value))) throw new Error(`--${flag} must be a positive ${whole ? "integer" : "number"}, not ${value}`);
}
if (Math.min(vadSeconds, clipSeconds) < 1) throw new Error("--seconds and --clip-seconds must be at least 1: section 3 takes its frame from the first VAD clip");

/** The cores the sidecar computes on: its one JS thread (see the header). */
const SIDECAR_CORES = 1;
const NOISE_SD = 0.02;

const modelsDir = fileURLToPath(new URL("../models", import.meta.url));
const weightsDir = fileURLToPath(new URL("../../data/models", import.meta.url));
const protoRoot = fileURLToPath(new URL("../../proto/", import.meta.url));
const logger = pino({ level: "silent" });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
const pad = (x: string, width = 10) => x.padStart(width);
/** Variants in order on odd rounds, reversed on even ones. */
const ordered = <T>(variants: readonly T[], round: number) => (round % 2 === 1 ? [...variants] : [...variants].reverse());

const cpu = os.cpus();
console.log(
  `inference bench: ${cpu[0]?.model.trim() ?? "unknown cpu"}, ${os.availableParallelism()} cores (${cpu.length} online), node ${process.version}, ` +
    `load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
);

// Only the two models benched: whisper or speaker_embedding weights, if installed, would load for nothing.
const benched = new Map<string, LocalModelFactory>(["vad", "dtmf"].map((name) => [name, localModels.get(name)!]));
const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger, models: benched });
const address = `127.0.0.1:${sidecar.port}`;
const client = createInferenceClient({ addresses: [address] });

const repository = await loadRepository(modelsDir);
async function loadAlone(name: string): Promise<LocalModel> {
  const entry = repository.find((m) => m.name === name);
  if (!entry) throw new Error(`the model repository has no ${name}`);
  const model = benched.get(name)!(entry.config, { weightsDir, logger });
  await model.load();
  const { ready, reason } = model.readiness();
  if (!ready) throw new Error(`${name} is not ready: ${reason}`);
  return model;
}
const vadAlone = await loadAlone("vad");
const dtmfAlone = await loadAlone("dtmf");
const noAbort = new AbortController().signal;
const audioTensor = (audio: Float32Array, shape: number[]): ReadonlyMap<string, Tensor> =>
  new Map([["AUDIO", { name: "AUDIO", datatype: "FP32", shape, data: audio }]]);

const speech = speechAudio(vadSeconds, clipSeconds);
const dtmf = dtmfAudio(dtmfSeconds, clipSeconds, NOISE_SD);

// ---- 1 and 2: throughput ----

interface Pass {
  wallS: number;
  cpuS: number;
}

async function pass(audio: BenchAudio, run: (clip: Float32Array, index: number) => Promise<unknown>): Promise<Pass> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const [i, clip] of audio.clips.entries()) await run(clip, i);
  const wallS = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpuBefore);
  return { wallS, cpuS: (user + system) / 1e6 };
}

const vadVariants = {
  model: (clip: Float32Array) => vadAlone.infer(audioTensor(clip, [1, clip.length]), {}, noAbort),
  gRPC: (clip: Float32Array) => client.vad(clip),
};
let dtmfExact = 0;
const dtmfVariants = {
  model: (clip: Float32Array) => dtmfAlone.infer(audioTensor(clip, [clip.length]), {}, noAbort),
  gRPC: async (clip: Float32Array, i: number) => {
    if ((await client.transcribe("dtmf", clip)).text === dtmf.keys[i]) dtmfExact++;
  },
};
type ThroughputVariant = keyof typeof vadVariants;
const throughputVariants: readonly ThroughputVariant[] = ["model", "gRPC"];

// ---- 3: client overhead ----

const definition = loadSync("inference/grpc_service.proto", { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot] });
const { inference } = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
const rawClient = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
type RawModelInfer = (request: object, callback: (err: grpc.ServiceError | null, response: { raw_output_contents: Buffer[] }) => void) => void;
const rawModelInfer = (rawClient.ModelInfer as RawModelInfer).bind(rawClient);

const firstClip = speech.clips[0]!;
const frameStart = Math.min(16_000, firstClip.length - 512);
const frame = firstClip.slice(frameStart, frameStart + 512);
const frameBytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
const frameRequest: InferRequest = { model: "vad", inputs: [{ name: "AUDIO", datatype: "FP32", shape: [1, 512], data: frame }], outputs: ["PROBS"] };

const callVariants = {
  raw: () =>
    new Promise<number>((resolve, reject) =>
      rawModelInfer(
        { model_name: "vad", inputs: [{ name: "AUDIO", datatype: "FP32", shape: [1, 512] }], outputs: [{ name: "PROBS" }], raw_input_contents: [frameBytes] },
        (err, response) => (err ? reject(err) : resolve(response.raw_output_contents[0]!.readFloatLE(0))),
      ),
    ),
  infer: async () => (await client.infer(frameRequest)).outputs.get("PROBS")!.data[0] as number,
  vad: async () => (await client.vad(frame)).probabilities[0]!,
};
type CallVariant = keyof typeof callVariants;
const callVariantNames: readonly CallVariant[] = ["raw", "infer", "vad"];

async function sequential(call: () => Promise<number>, count: number): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    latencies.push((performance.now() - started) * 1000);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function load(call: () => Promise<number>, durationMs: number): Promise<{ rps: number; cpuUs: number; errors: number }> {
  let done = 0;
  let errors = 0;
  const deadline = performance.now() + durationMs;
  // Bounded by time: each worker loops until the deadline.
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        await call();
        done++;
      } catch {
        errors++;
      }
    }
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpuBefore);
  return { rps: done / elapsed, cpuUs: (user + system) / Math.max(1, done), errors };
}

// ---- checks and warm-up ----

const [vadProbs] = (await vadVariants.model(speech.clips[0]!)) as [Tensor & { data: Float32Array }];
const { probabilities } = await client.vad(speech.clips[0]!);
const maxDiff = probabilities.reduce((max, p, i) => Math.max(max, Math.abs(p - vadProbs.data[i]!)), 0);
const speechShare = probabilities.filter((p) => p > 0.5).length / probabilities.length;
await dtmfVariants.gRPC(dtmf.clips[0]!, 0);
const dtmfFirstOk = dtmfExact === 1;
// One untimed pass of everything, so that the first round is not the one paying for the JIT.
for (const name of throughputVariants) {
  await pass(speech, vadVariants[name]);
  await pass(dtmf, dtmfVariants[name]);
}
const answers: number[] = [];
for (const name of callVariantNames) {
  answers.push(await callVariants[name]());
  await sequential(callVariants[name], 200);
  await load(callVariants[name], 300);
}

const clipsOf = (a: BenchAudio) => `${a.clips.length} clip${a.clips.length === 1 ? "" : "s"} of up to ${Math.min(clipSeconds, a.seconds)} s`;
console.log(
  `${rounds} round${rounds === 1 ? "" : "s"}, variants interleaved, medians over rounds; sidecar and client in this process on ${address}, ` +
    `one JS thread computing (VAD: onnxruntime-node, 1 intra-op thread, run on the JS thread)`,
);
if (quick) console.log("--quick: a smoke run; each pass lasts tens of milliseconds, too short for figures worth comparing");
console.log(`VAD audio:  ${vadSeconds} s in ${clipsOf(speech)}, ${speech.source}`);
console.log(`DTMF audio: ${dtmfSeconds} s in ${clipsOf(dtmf)}, ${dtmf.source}`);
console.log(
  `checks: vad gRPC vs model alone max |Δp| ${maxDiff.toExponential(1)}, ${(100 * speechShare).toFixed(0)}% of frames p > 0.5; ` +
    `dtmf first clip ${dtmfFirstOk ? "transcribed exactly" : "NOT transcribed exactly"}; ` +
    `one-frame p from raw/infer/vad ${answers.map((p) => p.toFixed(4)).join("/")}`,
);

// ---- rounds ----

const vadPasses: Record<ThroughputVariant, Pass[]> = { model: [], gRPC: [] };
const dtmfPasses: Record<ThroughputVariant, Pass[]> = { model: [], gRPC: [] };
const latency: Record<CallVariant, { p50: number; p99: number }[]> = { raw: [], infer: [], vad: [] };
const loaded: Record<CallVariant, { rps: number; cpuUs: number; errors: number }[]> = { raw: [], infer: [], vad: [] };
dtmfExact = 0;
const xrt = (audio: BenchAudio, p: Pass) => audio.seconds / p.cpuS;

for (let round = 1; round <= rounds; round++) {
  for (const name of ordered(throughputVariants, round)) vadPasses[name].push(await pass(speech, vadVariants[name]));
  for (const name of ordered(throughputVariants, round)) dtmfPasses[name].push(await pass(dtmf, dtmfVariants[name]));
  for (const name of ordered(callVariantNames, round)) latency[name].push(await sequential(callVariants[name], calls));
  for (const name of ordered(callVariantNames, round)) loaded[name].push(await load(callVariants[name], loadSeconds * 1000));
  const last = <T>(xs: T[]) => xs[xs.length - 1]!;
  console.log(
    `  round ${round}  ×RT/CPU-s vad model ${fmt(xrt(speech, last(vadPasses.model)))} gRPC ${fmt(xrt(speech, last(vadPasses.gRPC)))}` +
      `  dtmf model ${fmt(xrt(dtmf, last(dtmfPasses.model)))} gRPC ${fmt(xrt(dtmf, last(dtmfPasses.gRPC)))}` +
      `  |  p50 µs ${callVariantNames.map((n) => `${n} ${fmt(last(latency[n]).p50)}`).join(" ")}` +
      `  req/s ${callVariantNames.map((n) => `${n} ${last(loaded[n]).rps.toFixed(0)}`).join(" ")}`,
  );
}

client.close();
rawClient.close();
await sidecar.close();
await Promise.all([vadAlone.unload(), dtmfAlone.unload()]);

// ---- report ----

function throughputTable(title: string, audio: BenchAudio, passes: Record<ThroughputVariant, Pass[]>, labels: Record<ThroughputVariant, string>) {
  const summary = (name: ThroughputVariant) => {
    const ps = passes[name];
    return {
      perCore: median(ps.map((p) => audio.seconds / p.wallS / SIDECAR_CORES)),
      perCpu: median(ps.map((p) => audio.seconds / p.cpuS)),
      cpuPerWall: median(ps.map((p) => p.cpuS / p.wallS)),
      wallS: median(ps.map((p) => p.wallS)),
      cpuS: median(ps.map((p) => p.cpuS)),
    };
  };
  const model = summary("model");
  const viaGrpc = summary("gRPC");
  console.log(`\n${title}`);
  console.log(`medians                              ${pad("×RT/core")}${pad("×RT/CPU-s")}${pad("cpu/wall")}${pad("wall s")}${pad("CPU s")}`);
  for (const [name, s] of [["model", model], ["gRPC", viaGrpc]] as const) {
    console.log(`${labels[name].padEnd(37)}${pad(fmt(s.perCore))}${pad(fmt(s.perCpu))}${pad(s.cpuPerWall.toFixed(2))}${pad(s.wallS.toFixed(2))}${pad(s.cpuS.toFixed(2))}`);
  }
  console.log(
    `${"ratio gRPC/model".padEnd(37)}${pad((viaGrpc.perCore / model.perCore).toFixed(2))}${pad((viaGrpc.perCpu / model.perCpu).toFixed(2))}` +
      `${pad((viaGrpc.cpuPerWall / model.cpuPerWall).toFixed(2))}${pad((viaGrpc.wallS / model.wallS).toFixed(2))}${pad((viaGrpc.cpuS / model.cpuS).toFixed(2))}`,
  );
  const share = (g: number, m: number) => `${((100 * (g - m)) / g).toFixed(0)}%`;
  console.log(`outside the model (gRPC, checks, encoding): ${share(viaGrpc.wallS, model.wallS)} of wall time, ${share(viaGrpc.cpuS, model.cpuS)} of CPU time`);
}

throughputTable(`1. VAD throughput, ${vadSeconds} s of audio (Silero v5, onnxruntime-node, 1 intra-op thread; ×RT/core divides by ${SIDECAR_CORES} core)`, speech, vadPasses, {
  model: "model alone (LocalModel.infer)",
  gRPC: "gRPC sidecar (client.vad)",
});
throughputTable(`2. DTMF throughput, ${dtmfSeconds} s of audio (Goertzel in TypeScript; ×RT/core divides by ${SIDECAR_CORES} core)`, dtmf, dtmfPasses, {
  model: "model alone (LocalModel.infer)",
  gRPC: 'gRPC sidecar (client.transcribe "dtmf")',
});
const dtmfClips = rounds * dtmf.clips.length;
console.log(`dtmf over gRPC: ${dtmfExact}/${dtmfClips} clips transcribed exactly`);

const callLabels: Record<CallVariant, string> = {
  raw: "raw grpc-js + proto-loader",
  infer: "client.infer",
  vad: "client.vad (typed helper)",
};
const callSummary = (name: CallVariant) => ({
  p50: median(latency[name].map((l) => l.p50)),
  p99: median(latency[name].map((l) => l.p99)),
  rps: median(loaded[name].map((l) => l.rps)),
  cpuUs: median(loaded[name].map((l) => l.cpuUs)),
  errors: loaded[name].reduce((sum, l) => sum + l.errors, 0),
});
const calls3 = { raw: callSummary("raw"), infer: callSummary("infer"), vad: callSummary("vad") };
console.log(`\n3. Client overhead per ModelInfer: vad on one 512-sample frame; ${calls} sequential calls, then ${concurrency} in flight for ${loadSeconds} s`);
console.log(`medians                              ${pad("p50 µs")}${pad("p99 µs")}${pad(`req/s@${concurrency}`, 12)}${pad("CPU µs/call", 13)}${pad("errors")}`);
for (const name of callVariantNames) {
  const s = calls3[name];
  console.log(`${callLabels[name].padEnd(37)}${pad(fmt(s.p50))}${pad(fmt(s.p99))}${pad(s.rps.toFixed(0), 12)}${pad(fmt(s.cpuUs), 13)}${pad(String(s.errors))}`);
}
for (const name of ["infer", "vad"] as const) {
  const s = calls3[name];
  const raw = calls3.raw;
  console.log(
    `${`ratio ${name}/raw`.padEnd(37)}${pad((s.p50 / raw.p50).toFixed(2))}${pad((s.p99 / raw.p99).toFixed(2))}${pad((s.rps / raw.rps).toFixed(2), 12)}${pad((s.cpuUs / raw.cpuUs).toFixed(2), 13)}`,
  );
}
for (const name of ["infer", "vad"] as const) {
  const latencyDiff = median(latency[name].map((l, i) => l.p50 - latency.raw[i]!.p50));
  const cpuDiff = median(loaded[name].map((l, i) => l.cpuUs - loaded.raw[i]!.cpuUs));
  console.log(`overhead of ${callLabels[name]} over raw, per call: ${fmt(latencyDiff)} µs of p50 latency, ${fmt(cpuDiff)} µs of CPU at ${concurrency} in flight`);
}
