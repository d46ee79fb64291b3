// npm run bench:streams [-- --seconds 8 --start 1 --max 256 --frame-ms 20|100 --model dtmf|whisper --stagger-ms 1000 --client h2|grpc-js --connect-echo --profile DIR]
//
// How many concurrent call-centre streams (stereo 8 kHz μ-law paced in real time, interim results
// on) the gateway sustains: the load doubles from --start until the p99 processing lag reaches
// 100 ms or audio is lost (a stream's last metadata counts fewer bytes than were sent, or a final
// misses a key). Processing lag is the time between sending the frame at an interim result's
// `result_end_offset` and receiving that result. Each step runs side by side with a bare
// @grpc/grpc-js bidi echo server fed the same load, for the CPU ratio.
//
// The processes are those of a deployment: the sidecar (`npm run sidecar`, inference/local/main.ts)
// in one child, the gateway started through its platform root (streams-bench-servers.ts) in
// another, reaching the sidecar over KServe gRPC as it reaches Triton; the load generator runs here: by
// default raw gRPC over node:http2 with each frame's request encoded once (h2-load-client.ts), or
// with --client grpc-js the SDK-shaped @grpc/grpc-js client, which costs about as much CPU per
// stream as the gateway and takes it from the same two cores. Both put the same bytes on the wire. The CPU charged per stream is both servers' (read
// from /proc, so threads and the sidecar's own children count); the echo's is the gateway
// child's while it serves the echo step only.
//
// --model dtmf (default): a different keypad sequence on each channel, the energy gate; every
// final must carry its channel's keys. --model whisper: a random-weight whisper.cpp model (the
// smallest with every part of Whisper, as the sidecar's tests use) behind the VAD gate, on Arabic
// speech spoken by espeak-ng: its ceiling is the model's, which this shows next to dtmf's. Its
// words are noise, so a final only has to exist on each channel.
//
// Streams start --stagger-ms apart in all (spread evenly), as calls arrive at a call centre;
// --stagger-ms 0 starts them in lockstep, so every stream's decode step falls on the same frame
// (the worst case). The default run prints the 20 ms dtmf ladder, then one step with 100 ms frames
// at the count the ladder sustained.
//
// Also reported: time to first partial (from the first tone's or word's start) and final latency
// (from the moment the endpoint is decidable: the end of the last tone or word plus the 800 ms
// endpointing silence), the load generator's own CPU per stream and how busy the whole box was over the
// step (client and servers share its cores: a step the servers lose while the box is full says more about
// the box than about the gateway), and the machine's load average after the step.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { dtmfSequence } from "../../inference/client/testing/signals.js";
import { childEnvironment } from "../../inference/local/config.js";
import { writeRandomWhisperModel } from "../../inference/local/models/whisper-testmodel.js";
import { speakArabic } from "../../inference/local/testing/audio.js";
import { grpcJsClient, loadGrpcJsPackage } from "../testing/clients.js";
import { mulawOf } from "../../services/audio/g711.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { StreamingRecognizeResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { audioEnvelope, H2LoadClient, requestEnvelope } from "./h2-load-client.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    start: { type: "string", default: "1" },
    max: { type: "string", default: "256" },
    "frame-ms": { type: "string" },
    model: { type: "string", default: "dtmf" },
    "stagger-ms": { type: "string", default: "1000" },
    // Also runs each step against the same echo on connect-node and on the lean gRPC path (the
    // gateway's transports without interceptors or engine): how much of the gateway's CPU is its transport's.
    "connect-echo": { type: "boolean", default: false },
    // Writes V8 CPU profiles of the servers (each process and thread) into this directory.
    profile: { type: "string" },
    // The load generator: "h2" (default), raw gRPC over node:http2 with each frame encoded once
    // (h2-load-client.ts), so the client's CPU stays small beside the servers'; "grpc-js", the SDK-shaped client.
    client: { type: "string", default: "h2" },
    // The gateway as GATEWAY_PROCESSES runs it: a primary and this many workers on one port (needs DATABASE_URL and REDIS_URL).
    "gateway-processes": { type: "string", default: "1" },
  },
});
const seconds = Number(values.seconds);
const model = values.model === "whisper" ? "whisper" : "dtmf";
if (values.model !== model) throw new Error("--model is dtmf or whisper");
const staggerMs = Number(values["stagger-ms"]);
const clientKind = values.client === "grpc-js" ? "grpc-js" : "h2";
if (values.client !== clientKind) throw new Error("--client is h2 or grpc-js");
const RATE = 8000;
const SILENCE_MS = 800;
const root = fileURLToPath(new URL("../../", import.meta.url));

interface Channel {
  samples: Float32Array;
  /** Seconds: where the first tone or word starts and the last ends. */
  start: number;
  end: number;
  /** The final transcript it must produce; undefined: any non-empty one. */
  expect?: string;
}

/** One dtmf channel: `keys` dialled from `leadMs`, padded with silence to the stream's length. */
function keypadChannel(keys: string, leadMs: number): Channel {
  const { audio, keys: timed } = dtmfSequence(keys, { sampleRate: RATE, leadMs, toneMs: 100, gapMs: 100 });
  const samples = new Float32Array(RATE * seconds);
  samples.set(audio.subarray(0, samples.length));
  return { samples, start: timed[0]!.start, end: timed.at(-1)!.end, expect: keys };
}

/** One speech channel: `text` spoken by espeak-ng from `leadMs`, at 8 kHz, padded with silence. */
async function speechChannel(text: string, leadMs: number, dir: string): Promise<Channel> {
  const wav = join(dir, `${leadMs}.wav`);
  await speakArabic(text, wav);
  const { stdout } = await promisify(execFile)("sox", ["-D", wav, "-t", "raw", "-r", String(RATE), "-c", "1", "-e", "floating-point", "-b", "32", "-"], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  const speech = new Float32Array(new Uint8Array(stdout).buffer, 0, stdout.length / 4);
  const samples = new Float32Array(RATE * seconds);
  const lead = Math.round((leadMs * RATE) / 1000);
  samples.set(speech.subarray(0, samples.length - lead), lead);
  // Where the speech is: the first and last 10 ms above -40 dBFS.
  const hop = RATE / 100;
  const loud: number[] = [];
  for (let at = 0; at + hop <= speech.length; at += hop) {
    let sum = 0;
    for (let i = at; i < at + hop; i++) sum += speech[i]! * speech[i]!;
    if (Math.sqrt(sum / hop) > 0.01) loud.push(at);
  }
  return { samples, start: (lead + loud[0]!) / RATE, end: (lead + loud.at(-1)! + hop) / RATE };
}

const scratch = await mkdtemp(join(tmpdir(), "arabicstt-streams-bench-"));
const [left, right] =
  model === "dtmf"
    ? [keypadChannel("1593", 300), keypadChannel("2486", 1500)]
    : [await speechChannel("السلام عليكم", 300, scratch), await speechChannel("شكرا جزيلا", 1500, scratch)];
if (Math.max(left.end, right.end) + SILENCE_MS / 1000 + 0.5 > seconds) throw new Error("--seconds too short for the audio");
const stereo = new Uint8Array(RATE * seconds * 2);
for (let i = 0; i < RATE * seconds; i++) {
  stereo[2 * i] = mulawOf(left.samples[i]!);
  stereo[2 * i + 1] = mulawOf(right.samples[i]!);
}
const firstSound = Math.min(left.start, right.start);
const endpointAt: Record<number, number> = { 1: left.end + SILENCE_MS / 1000, 2: right.end + SILENCE_MS / 1000 };

interface StreamOutcome {
  lags: number[];
  firstPartialMs?: number;
  finalLatencyMs: number[];
  lost: boolean;
  failed?: string;
}

/** A response as the bench reads it, from either client. */
interface Heard {
  results: Array<{ isFinal: boolean; channelTag: number; endSeconds: number; transcript: string }>;
  audioBytesReceived?: number;
}

interface WireResponse {
  results: Array<{ is_final: boolean; channel_tag: number; result_end_offset: { seconds: string; nanos: number } | null; alternatives: Array<{ transcript: string }> }>;
  metadata: { audio_bytes_received: string } | null;
}

type Duplex = grpc.ClientDuplexStream<object, WireResponse>;

/** The bench's side of one call, whichever client carries it. */
interface LoadCall {
  sendFrame(n: number): void;
  end(): void;
}

/** What a call reports: each response (undefined for an echo's, which is only counted), then its end or error. */
interface CallEvents {
  data(r: Heard | undefined): void;
  error(err: Error): void;
  end(): void;
}

/** A connection of either client: a grpc-js channel, or the lean HTTP/2 one (h2-load-client.ts). */
type LoadConnection = { kind: "grpc-js"; client: grpc.Client } | { kind: "h2"; client: H2LoadClient };

const STREAMING_CONFIG = {
  config: { encoding: "AUDIO_ENCODING_MULAW", sample_rate_hz: RATE, audio_channel_count: 2, separate_recognition_per_channel: true, model },
  interim_results: true,
} as const;
const configEnvelope = requestEnvelope({
  streamingRequest: {
    case: "streamingConfig",
    value: { config: { encoding: AudioEncoding.MULAW, sampleRateHz: RATE, audioChannelCount: 2, separateRecognitionPerChannel: true, model }, interimResults: true },
  },
});
/** Per frame length: each frame's request, enveloped once for every stream of the lean client. */
const frameEnvelopes = new Map<number, Buffer[]>();
function envelopesFor(frameBytes: number): Buffer[] {
  let envelopes = frameEnvelopes.get(frameBytes);
  if (!envelopes) {
    envelopes = [];
    for (let at = 0; at < stereo.length; at += frameBytes) envelopes.push(audioEnvelope(stereo.subarray(at, at + frameBytes)));
    frameEnvelopes.set(frameBytes, envelopes);
  }
  return envelopes;
}

function openCall(connection: LoadConnection, apiKey: string, frameBytes: number, echo: boolean, events: CallEvents): LoadCall {
  if (connection.kind === "h2") {
    const envelopes = envelopesFor(frameBytes);
    const call = connection.client.call({ authorization: `Bearer ${apiKey}` }, !echo);
    call.write(configEnvelope);
    const heard = (r: StreamingRecognizeResponse | undefined): Heard | undefined =>
      r && {
        results: r.results.map((result) => ({
          isFinal: result.isFinal,
          channelTag: result.channelTag,
          endSeconds: Number(result.resultEndOffset?.seconds ?? 0n) + (result.resultEndOffset?.nanos ?? 0) / 1e9,
          transcript: result.alternatives[0]?.transcript ?? "",
        })),
        audioBytesReceived: r.metadata ? Number(r.metadata.audioBytesReceived) : undefined,
      };
    call.on("data", (r: StreamingRecognizeResponse | undefined) => events.data(heard(r)));
    call.on("error", events.error);
    call.on("end", events.end);
    return { sendFrame: (n) => call.write(envelopes[n]!), end: () => call.end() };
  }
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${apiKey}`);
  const call = (connection.client as unknown as { StreamingRecognize(metadata: grpc.Metadata): Duplex }).StreamingRecognize(metadata);
  call.write({ streaming_config: STREAMING_CONFIG });
  const heard = (r: WireResponse): Heard => ({
    results: r.results.map((result) => ({
      isFinal: result.is_final,
      channelTag: result.channel_tag,
      endSeconds: Number(result.result_end_offset?.seconds ?? 0) + (result.result_end_offset?.nanos ?? 0) / 1e9,
      transcript: result.alternatives[0]?.transcript ?? "",
    })),
    audioBytesReceived: r.metadata ? Number(r.metadata.audio_bytes_received) : undefined,
  });
  call.on("data", (r: WireResponse) => events.data(echo ? undefined : heard(r)));
  call.on("error", events.error);
  call.on("end", events.end);
  return {
    sendFrame: (n) => void call.write({ audio_content: Buffer.from(stereo.subarray(n * frameBytes, (n + 1) * frameBytes)) }),
    end: () => void call.end(),
  };
}

/** One stream paced in real time from `delayMs`; `echo` measures the bare server (one response per request). */
function runStream(connection: LoadConnection, apiKey: string, frameMs: number, delayMs: number, echo: boolean): Promise<StreamOutcome> {
  const frameBytes = ((RATE * frameMs) / 1000) * 2;
  const frameCount = Math.ceil(stereo.length / frameBytes);
  return new Promise((resolve) => {
    const sentAt: number[] = [];
    const outcome: StreamOutcome = { lags: [], finalLatencyMs: [], lost: false };
    const finals: Record<number, string> = { 1: "", 2: "" };
    let lastMetadataBytes = -1;
    let echoed = 0;
    let begin = 0;
    const start = () => {
      const call = openCall(connection, apiKey, frameBytes, echo, {
        data: (r) => {
          const now = performance.now();
          if (echo) {
            // Request n+1 (n = 0 is the config) is frame n: its echo's lag.
            const frame = echoed++ - 1;
            if (frame >= 0 && sentAt[frame] !== undefined) outcome.lags.push(now - sentAt[frame]!);
            return;
          }
          if (!r) return;
          if (r.audioBytesReceived !== undefined) lastMetadataBytes = r.audioBytesReceived;
          for (const result of r.results) {
            if (result.isFinal) {
              finals[result.channelTag] += result.transcript;
              outcome.finalLatencyMs.push(now - (begin + endpointAt[result.channelTag]! * 1000));
              continue;
            }
            outcome.firstPartialMs ??= now - (begin + firstSound * 1000);
            // The frame holding the last sample the result covers.
            const frame = Math.min(frameCount - 1, Math.max(0, Math.ceil((result.endSeconds * 1000) / frameMs) - 1));
            if (sentAt[frame] !== undefined) outcome.lags.push(now - sentAt[frame]!);
          }
        },
        error: (err) => resolve({ ...outcome, failed: err.message, lost: true }),
        end: () => {
          if (echo) outcome.lost = echoed !== frameCount + 1;
          else {
            const heard = (c: 1 | 2, channel: Channel) => (channel.expect === undefined ? finals[c] !== "" : finals[c] === channel.expect);
            outcome.lost = lastMetadataBytes !== stereo.length || !heard(1, left) || !heard(2, right);
          }
          resolve(outcome);
        },
      });
      begin = performance.now();
      // Real-time pacing against absolute times, so timer jitter does not accumulate.
      let n = 0;
      const tick = () => {
        const due = Math.floor((performance.now() - begin) / frameMs) + 1;
        while (n < Math.min(due, frameCount)) {
          sentAt[n] = performance.now();
          call.sendFrame(n);
          n++;
        }
        if (n < frameCount) setTimeout(tick, Math.max(0, begin + n * frameMs - performance.now()));
        else call.end();
      };
      tick();
    };
    setTimeout(start, delayMs);
  });
}

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** CPU time (µs) of a process and every process below it, threads included, from /proc. */
async function treeCpu(pid: number): Promise<number> {
  const stats = new Map<number, { parent: number; ticks: number }>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    if (fields.length > 13) stats.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  let ticks = 0;
  const walk = (p: number) => {
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.parent === p) walk(child);
  };
  walk(pid);
  return (ticks * 1e6) / 100; // USER_HZ is 100 on Linux
}

/** Jiffies the whole machine spent busy and in all, from /proc/stat's first line. */
async function boxCpu(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** A child's stdout lines, one at a time. */
function lineReader(child: ChildProcess): () => Promise<string> {
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return async () => {
    const line = await lines.next();
    if (line.done) throw new Error("a bench process closed its output");
    return line.value;
  };
}

const children: ChildProcess[] = [];
function startChild(script: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const profile = values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", join(root, script), ...args], { stdio: ["pipe", "pipe", "inherit"], cwd: root, env });
  child.once("exit", (code) => {
    if (code && !stopping) {
      console.error(`${script} exited with ${code}`);
      process.exit(1);
    }
  });
  children.push(child);
  return child;
}
let stopping = false;
// However this process ends, its servers end with it.
process.once("exit", () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

// The sidecar, as `npm run sidecar` starts it, with the random-weight whisper model installed.
const weightsDir = join(scratch, "weights");
await mkdir(join(weightsDir, "whisper"), { recursive: true });
await writeRandomWhisperModel(join(weightsDir, "whisper", "ggml-test.bin"), { textCtx: 32, audioLayers: 1, textLayers: 1 });
const sidecar = startChild("inference/local/main.ts", [], childEnvironment({ SIDECAR_PORT: "0", MODEL_WEIGHTS_DIR: weightsDir, LOG_LEVEL: "info" }));
const sidecarLine = lineReader(sidecar);
let sidecarPort = 0;
let modelCount = Number.POSITIVE_INFINITY;
for (let ready = 0; ready < modelCount; ) {
  // Its JSON log: the port it listens on and the models it serves, then one line per model once loaded.
  const line = JSON.parse(await sidecarLine()) as { msg: string; port?: number; models?: string[] };
  if (line.msg === "sidecar listening") [sidecarPort, modelCount] = [line.port!, line.models!.length];
  if (line.msg === "model ready" || line.msg === "model not ready") ready++;
}
// The rest of its log is not read; it must not fill the pipe.
sidecar.stdout!.resume();

const servers = startChild("gateway/bench/streams-bench-servers.ts", [JSON.stringify({ sidecar: `127.0.0.1:${sidecarPort}`, dataDir: join(scratch, "data"), gatewayProcesses: Number(values["gateway-processes"]) })]);
const { full: fullPort, bare: barePort, connectEcho: connectEchoPort, leanEcho: leanEchoPort, apiKey } = JSON.parse(await lineReader(servers)()) as {
  full: number;
  bare: number;
  connectEcho: number;
  leanEcho: number;
  apiKey: string;
};
/** CPU time (µs) so far of the gateway and of the sidecar (with their threads and children). */
const serverCpu = async () => ({ gateway: await treeCpu(servers.pid!), sidecar: await treeCpu(sidecar.pid!) });

const pkg = loadGrpcJsPackage();
async function step(port: number, streams: number, frameMs: number, echo: boolean) {
  // One channel (connection) per 16 streams, as media servers multiplex calls.
  const clients: LoadConnection[] = Array.from({ length: Math.ceil(streams / 16) }, () =>
    clientKind === "h2"
      ? { kind: "h2", client: new H2LoadClient(`http://127.0.0.1:${port}`) }
      : { kind: "grpc-js", client: grpcJsClient(pkg, "arabicstt.v1.SpeechService", `127.0.0.1:${port}`) },
  );
  const cpuBefore = await serverCpu();
  const clientBefore = process.cpuUsage();
  const boxBefore = await boxCpu();
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: streams }, (_, i) => runStream(clients[i % clients.length]!, apiKey, frameMs, (i * staggerMs) / streams, echo)),
  );
  const wall = (performance.now() - started) / 1000;
  const cpuAfter = await serverCpu();
  const client = process.cpuUsage(clientBefore);
  const box = await boxCpu();
  const gatewayCpu = cpuAfter.gateway - cpuBefore.gateway;
  // The echo runs in the gateway's process, so its step charges that process only.
  const cpu = echo ? gatewayCpu : gatewayCpu + cpuAfter.sidecar - cpuBefore.sidecar;
  for (const c of clients) c.client.close();
  const lags = outcomes.flatMap((o) => o.lags);
  return {
    p50: percentile(lags, 0.5),
    p99: percentile(lags, 0.99),
    lost: outcomes.filter((o) => o.lost).length,
    failures: [...new Set(outcomes.flatMap((o) => (o.failed ? [o.failed] : [])))],
    // CPU of the servers per stream, in cores (1 = one core busy for the stream's length).
    coresPerStream: cpu / 1e6 / wall / streams,
    gatewayShare: gatewayCpu / cpu,
    // The load generator's own CPU (this process), per stream, and how busy the whole box was: the client
    // shares the box's cores with the servers, so a step can fail for want of CPU the servers never used.
    clientCoresPerStream: (client.user + client.system) / 1e6 / wall / streams,
    boxBusy: (box.busy - boxBefore.busy) / (box.total - boxBefore.total),
    firstPartial: percentile(outcomes.flatMap((o) => (o.firstPartialMs === undefined ? [] : [o.firstPartialMs])), 0.5),
    finalLatency: percentile(outcomes.flatMap((o) => o.finalLatencyMs), 0.5),
    finalLatencyP99: percentile(outcomes.flatMap((o) => o.finalLatencyMs), 0.99),
    load: loadavg()[0]!,
  };
}
type Step = Awaited<ReturnType<typeof step>>;

/** A figure in ms, or "none" when no result gave one (a model too slow for any partial). */
const ms = (value: number, digits = 0) => (Number.isNaN(value) ? "none" : `${value.toFixed(digits)} ms`);

function line(streams: number, frameMs: number, full: Step, bare: Step): string {
  return (
    `  ${String(streams).padStart(4)} streams ${String(frameMs).padStart(3)} ms  full: lag p50 ${ms(full.p50, 1)} p99 ${ms(full.p99, 1)}, lost ${full.lost}, ` +
    `${(full.coresPerStream * 1000).toFixed(2)} mcores/stream (${Math.round(full.gatewayShare * 100)} % gateway), first partial ${ms(full.firstPartial)}, final ${ms(full.finalLatency)} (p99 ${ms(full.finalLatencyP99)})  |  ` +
    `echo: lag p50 ${bare.p50.toFixed(1)} ms p99 ${bare.p99.toFixed(1)} ms, lost ${bare.lost}, ${(bare.coresPerStream * 1000).toFixed(2)} mcores/stream  |  ` +
    `CPU ratio ${(full.coresPerStream / bare.coresPerStream).toFixed(1)}x  |  client ${(full.clientCoresPerStream * 1000).toFixed(2)} mcores/stream, box ${Math.round(full.boxBusy * 100)} % busy  |  load ${full.load.toFixed(2)}` +
    (full.failures.length ? `  errors: ${full.failures.join("; ")}` : "")
  );
}

function connectEchoLine(transport: string, connect: Step, bare: Step): string {
  return (
    `       ${transport} echo: lag p50 ${ms(connect.p50, 1)} p99 ${ms(connect.p99, 1)}, lost ${connect.lost}, ${(connect.coresPerStream * 1000).toFixed(2)} mcores/stream, ` +
    `${(connect.coresPerStream / bare.coresPerStream).toFixed(1)}x the grpc-js echo`
  );
}

async function ladder(frameMs: number): Promise<{ streams: number; full: Step; bare: Step } | undefined> {
  let sustained: { streams: number; full: Step; bare: Step } | undefined;
  for (let streams = Number(values.start); streams <= Number(values.max); streams *= 2) {
    const full = await step(fullPort, streams, frameMs, false);
    const bare = await step(barePort, streams, frameMs, true);
    console.log(line(streams, frameMs, full, bare));
    if (values["connect-echo"]) {
      console.log(connectEchoLine("connect-node", await step(connectEchoPort, streams, frameMs, true), bare));
      console.log(connectEchoLine("lean gRPC path", await step(leanEchoPort, streams, frameMs, true), bare));
    }
    if (!(full.p99 < 100 && full.lost === 0)) break;
    sustained = { streams, full, bare };
  }
  if (sustained) {
    const { streams, full, bare } = sustained;
    console.log(
      `sustained (${frameMs} ms frames): ${streams} concurrent streams with p99 lag ${full.p99.toFixed(1)} ms and no lost audio; ` +
        `${(full.coresPerStream * 1000).toFixed(2)} mcores per stream (echo ${(bare.coresPerStream * 1000).toFixed(2)}, ratio ${(full.coresPerStream / bare.coresPerStream).toFixed(1)}x); ` +
        `time to first partial ${full.firstPartial.toFixed(0)} ms, final ${full.finalLatency.toFixed(0)} ms after the endpoint`,
    );
  } else {
    console.log(`not even ${values.start} stream(s) sustained with ${frameMs} ms frames, p99 lag under 100 ms and no lost audio`);
  }
  return sustained;
}

try {
  console.log(
    `streams bench: ${seconds} s stereo 8 kHz μ-law streams paced in real time, ${model} model, interim results, starts spread over ${staggerMs} ms; ` +
      `sidecar and gateway in processes of their own, client here, all on this machine (${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(" ")})`,
  );
  await step(fullPort, 1, 20, false); // warm-up
  if (values["frame-ms"] !== undefined) {
    await ladder(Number(values["frame-ms"]));
  } else {
    const sustained = await ladder(20);
    // The same load in 100 ms frames: fewer, larger messages per second.
    const streams = sustained?.streams ?? Number(values.start);
    console.log(line(streams, 100, await step(fullPort, streams, 100, false), await step(barePort, streams, 100, true)));
  }
} finally {
  stopping = true;
  for (const child of children) child.stdin!.end();
  // SIGINT: the sidecar shuts down cleanly, so a profile is written.
  sidecar.kill("SIGINT");
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(undefined) : c.once("exit", resolve)))));
  await rm(scratch, { recursive: true, force: true });
}
