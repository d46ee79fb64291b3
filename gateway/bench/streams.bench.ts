// npm run bench:streams [-- --seconds 8 --start 1 --max 256]
//
// How many concurrent call-centre streams (stereo 8 kHz μ-law, 20 ms frames paced in real time,
// a different keypad sequence on each channel, interim results on) the full gateway sustains on
// the `dtmf` model, through the live engine and a local sidecar: the load doubles from --start
// until the p99 processing lag reaches 100 ms or audio is lost (a stream's last metadata counts
// fewer bytes than were sent, or a final misses a key). Processing lag is the time between
// sending the frame at an interim result's `result_end_offset` and receiving that result. Each
// step runs side by side with a bare @grpc/grpc-js bidi echo server fed the same load, for the
// CPU ratio. The servers run in a child process, whose CPU time is charged per stream; the load
// generator (grpc-js clients from the descriptor set) runs here.
//
// Also reported: time to first partial (from the first tone's start) and final latency (from the
// moment the endpoint is decidable: the end of the last tone plus the 800 ms endpointing silence).
// Both include the dtmf model's own time, which is a fraction of a millisecond per call.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { grpcJsClient, loadGrpcJsPackage } from "../testing/clients.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    start: { type: "string", default: "1" },
    max: { type: "string", default: "256" },
  },
});
const seconds = Number(values.seconds);
const RATE = 8000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (RATE * FRAME_MS) / 1000;
const SILENCE_MS = 800;

/** G.711 μ-law of a sample in [-1, 1]. */
function mulaw(x: number): number {
  const BIAS = 0x84;
  let v = Math.max(-32635, Math.min(32635, Math.round(x * 32767)));
  const sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  v += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (v >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One channel: `keys` dialled from `leadMs`, padded with silence to the stream's length. */
function channel(keys: string, leadMs: number): { samples: Float32Array; keysStart: number; keysEnd: number } {
  const { audio, keys: timed } = dtmfSequence(keys, { sampleRate: RATE, leadMs, toneMs: 100, gapMs: 100 });
  const samples = new Float32Array(RATE * seconds);
  samples.set(audio.subarray(0, samples.length));
  return { samples, keysStart: timed[0]!.start, keysEnd: timed.at(-1)!.end };
}

const left = channel("1593", 300);
const right = channel("2486", 1500);
if (Math.max(left.keysEnd, right.keysEnd) + SILENCE_MS / 1000 + 0.5 > seconds) throw new Error("--seconds too short for the keys");
const stereo = new Uint8Array(RATE * seconds * 2);
for (let i = 0; i < RATE * seconds; i++) {
  stereo[2 * i] = mulaw(left.samples[i]!);
  stereo[2 * i + 1] = mulaw(right.samples[i]!);
}
const frameCount = stereo.length / (FRAME_SAMPLES * 2);
const frameAt = (n: number) => Buffer.from(stereo.subarray(n * FRAME_SAMPLES * 2, (n + 1) * FRAME_SAMPLES * 2));
const firstTone = Math.min(left.keysStart, right.keysStart);
const endpointAt = { 1: left.keysEnd + SILENCE_MS / 1000, 2: right.keysEnd + SILENCE_MS / 1000 } as Record<number, number>;

interface StreamOutcome {
  lags: number[];
  firstPartialMs?: number;
  finalLatencyMs: number[];
  lost: boolean;
  failed?: string;
}

interface WireResponse {
  results: Array<{ is_final: boolean; channel_tag: number; result_end_offset: { seconds: string; nanos: number } | null; alternatives: Array<{ transcript: string }> }>;
  metadata: { audio_bytes_received: string } | null;
}

type Duplex = grpc.ClientDuplexStream<object, WireResponse>;

/** One stream paced in real time; `echo` measures the bare server (one response per request). */
function runStream(client: grpc.Client, echo: boolean): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", "Bearer astt_streams_bench"); // the key streams-bench-servers.ts accepts
    const call = (client as unknown as { StreamingRecognize(metadata: grpc.Metadata): Duplex }).StreamingRecognize(metadata);
    const sentAt: number[] = [];
    const outcome: StreamOutcome = { lags: [], finalLatencyMs: [], lost: false };
    const finals: Record<number, string> = { 1: "", 2: "" };
    let lastMetadataBytes = -1;
    let echoed = 0;
    let begin = 0;
    call.on("data", (r: WireResponse) => {
      const now = performance.now();
      if (echo) {
        // Request n+1 (n = 0 is the config) is frame n: its echo's lag.
        const frame = echoed++ - 1;
        if (frame >= 0 && sentAt[frame] !== undefined) outcome.lags.push(now - sentAt[frame]!);
        return;
      }
      if (r.metadata) lastMetadataBytes = Number(r.metadata.audio_bytes_received);
      for (const result of r.results) {
        const end = Number(result.result_end_offset?.seconds ?? 0) + (result.result_end_offset?.nanos ?? 0) / 1e9;
        if (result.is_final) {
          finals[result.channel_tag] += result.alternatives[0]?.transcript ?? "";
          outcome.finalLatencyMs.push(now - (begin + endpointAt[result.channel_tag]! * 1000));
          continue;
        }
        outcome.firstPartialMs ??= now - (begin + firstTone * 1000);
        // The frame holding the last sample the result covers.
        const frame = Math.min(frameCount - 1, Math.max(0, Math.ceil((end * 1000) / FRAME_MS) - 1));
        if (sentAt[frame] !== undefined) outcome.lags.push(now - sentAt[frame]!);
      }
    });
    call.on("error", (err) => resolve({ ...outcome, failed: err.message, lost: true }));
    call.on("end", () => {
      if (!echo) outcome.lost = lastMetadataBytes !== stereo.length || finals[1] !== "1593" || finals[2] !== "2486";
      else outcome.lost = echoed !== frameCount + 1;
      resolve(outcome);
    });
    call.write({
      streaming_config: {
        config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: RATE, audio_channel_count: 2, separate_recognition_per_channel: true, model: "dtmf" },
        interim_results: true,
      },
    });
    begin = performance.now();
    // Real-time pacing against absolute times, so timer jitter does not accumulate.
    let n = 0;
    const tick = () => {
      const due = Math.floor((performance.now() - begin) / FRAME_MS) + 1;
      while (n < Math.min(due, frameCount)) {
        sentAt[n] = performance.now();
        call.write({ audio_content: frameAt(n) });
        n++;
      }
      if (n < frameCount) setTimeout(tick, Math.max(0, begin + n * FRAME_MS - performance.now()));
      else call.end();
    };
    tick();
  });
}

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./streams-bench-servers.ts", import.meta.url))], {
  stdio: ["pipe", "pipe", "inherit"],
});
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
child.once("exit", (code) => {
  if (code) {
    console.error(`bench servers exited with ${code}`);
    process.exit(1);
  }
});
const nextLine = async () => {
  const line = await lines.next();
  if (line.done) throw new Error("bench servers closed their output");
  return line.value;
};
const ports = JSON.parse(await nextLine()) as { full: number; bare: number };
const serverCpu = async () => {
  child.stdin!.write("cpu\n");
  return (JSON.parse(await nextLine()) as { cpu: number }).cpu;
};

const pkg = loadGrpcJsPackage();
async function step(port: number, streams: number, echo: boolean) {
  // One channel (connection) per 16 streams, as media servers multiplex calls.
  const clients = Array.from({ length: Math.ceil(streams / 16) }, () => grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${port}`));
  const cpuBefore = await serverCpu();
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: streams }, (_, i) => runStream(clients[i % clients.length]!, echo)));
  const wall = (performance.now() - started) / 1000;
  const cpu = (await serverCpu()) - cpuBefore;
  for (const c of clients) c.close();
  const lags = outcomes.flatMap((o) => o.lags);
  return {
    p50: percentile(lags, 0.5),
    p99: percentile(lags, 0.99),
    lost: outcomes.filter((o) => o.lost).length,
    failures: [...new Set(outcomes.flatMap((o) => (o.failed ? [o.failed] : [])))],
    // CPU of the server process per stream, in cores (1 = one core busy for the stream's length).
    coresPerStream: cpu / 1e6 / wall / streams,
    firstPartial: percentile(outcomes.flatMap((o) => (o.firstPartialMs === undefined ? [] : [o.firstPartialMs])), 0.5),
    finalLatency: percentile(outcomes.flatMap((o) => o.finalLatencyMs), 0.5),
    finalLatencyP99: percentile(outcomes.flatMap((o) => o.finalLatencyMs), 0.99),
  };
}

console.log(`streams bench: ${seconds} s stereo 8 kHz μ-law streams in ${FRAME_MS} ms frames, paced in real time, dtmf model, interim results; client and servers on this machine (${(await import("node:os")).cpus().length} CPUs)`);
await step(ports.full, 1, false); // warm-up
let sustained: { streams: number; full: Awaited<ReturnType<typeof step>>; bare: Awaited<ReturnType<typeof step>> } | undefined;
for (let streams = Number(values.start); streams <= Number(values.max); streams *= 2) {
  const full = await step(ports.full, streams, false);
  const bare = await step(ports.bare, streams, true);
  const ok = full.p99 < 100 && full.lost === 0;
  console.log(
    `  ${String(streams).padStart(4)} streams  full: lag p50 ${full.p50.toFixed(1)} ms p99 ${full.p99.toFixed(1)} ms, lost ${full.lost}, ` +
      `${(full.coresPerStream * 1000).toFixed(1)} mcores/stream, first partial ${full.firstPartial.toFixed(0)} ms, final ${full.finalLatency.toFixed(0)} ms (p99 ${full.finalLatencyP99.toFixed(0)})  |  ` +
      `echo: lag p99 ${bare.p99.toFixed(1)} ms, lost ${bare.lost}, ${(bare.coresPerStream * 1000).toFixed(2)} mcores/stream  |  CPU ratio ${(full.coresPerStream / bare.coresPerStream).toFixed(1)}x` +
      (full.failures.length ? `  errors: ${full.failures.join("; ")}` : ""),
  );
  if (!ok) break;
  sustained = { streams, full, bare };
}
if (sustained) {
  console.log(
    `sustained: ${sustained.streams} concurrent streams with p99 lag ${sustained.full.p99.toFixed(1)} ms and no lost audio; ` +
      `${(sustained.full.coresPerStream * 1000).toFixed(1)} mcores per stream (echo ${(sustained.bare.coresPerStream * 1000).toFixed(2)}, ratio ${(sustained.full.coresPerStream / sustained.bare.coresPerStream).toFixed(1)}x); ` +
      `time to first partial ${sustained.full.firstPartial.toFixed(0)} ms, final ${sustained.full.finalLatency.toFixed(0)} ms after the endpoint`,
  );
} else {
  console.log(`not even ${values.start} stream(s) sustained with p99 lag under 100 ms and no lost audio`);
}
child.stdin!.end();
