// npm run bench:batch [-- --minutes 10 --rounds 5]
//
// Throughput of the batch pipeline (runAudioPipeline: probe, ffmpeg decode with the loudness measured in the
// same pass and applied as one gain, energy segmentation, chunking, recognition through the inference client
// to a sidecar on loopback, and diarization by channel) on a generated stereo call, 8 kHz μ-law WAV as call
// recorders write it: each party dials keys on its own channel, a 30 s call repeated to --minutes. The dtmf
// model stands in for ASR.
//
//   ×RT = seconds of audio / seconds taken. Higher is better.
//   pipeline                  the whole runAudioPipeline call, wall clock, each channel recognised on its own
//                             (separate_recognition_per_channel, as a call centre asks for it).
//   stage rows                where the pipeline's time went, from its own progress reports (each stage ends at
//                             its last report); "recognize" less model time is the client and chunking.
//   model time                wall time during which at least one inference call was in flight (the union of
//                             the calls' intervals, so concurrent calls are not counted twice).
//   pipeline − model          the pipeline's own throughput, excluding model time: what the worker adds.
//   mixed down                the same without separate channels: one channel decoded, recognised, diarized.
// Baselines, measured in the same rounds:
//   ffmpeg decode alone       ffmpeg decoding the same file to 16 kHz float PCM, to nowhere.
//   decode into memory        decodeAudio without loudness: ffmpeg, the pipe, de-interleaving into arrays.
//   loudness: measure + gain  LoudnessMeter over the decoded arrays and the one gain, in process (the part of
//                             the decode stage that is ours; in the pipeline it overlaps ffmpeg's decoding).
//   ffmpeg + loudnorm         ffmpeg with the single-pass `loudnorm=I=-16:TP=-1.5:LRA=11` filter that the
//                             pipeline used before (85 % of its own time then), to nowhere.
//
// Medians over --rounds; the variants alternate order each round so drift on a shared machine hits all of
// them. The load average is printed before and after: other work on the machine slows every row alike.
import { execFile } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { createInferenceClient, type InferenceClient } from "../../../inference/client/index.js";
import { startSidecar } from "../../../inference/local/server.js";
import { createAudioDir, sox, soxDtmf } from "../../../inference/local/testing/audio.js";
import { applyGain, LoudnessMeter, loudnessGain } from "../../audio/loudness.js";
import { probeMedia } from "../../audio/probe.js";
import { decodeAudio, LOUDNESS_TARGET, PIPELINE_SAMPLE_RATE, runAudioPipeline, type PipelineStage } from "../pipeline/index.js";

const exec = promisify(execFile);
const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, rounds: { type: "string", default: "5" } } });
const minutes = Number(values.minutes);
const rounds = Number(values.rounds);
/** The loudness filter of the pipeline before loudness moved into the decode pass, for the baseline row. */
const PREVIOUS_LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11";
const STAGES: PipelineStage[] = ["probe", "decode", "segment", "recognize", "diarize"];

const audio = await createAudioDir("bench-batch-");
const logger = pino({ level: "silent" });
const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir: audio.path("weights"), logger });
const inner = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 600_000 });

// Model time: the union of the intervals during which some inference call was in flight.
let inFlight = 0;
let busySince = 0;
let modelMs = 0;
const client = new Proxy(inner, {
  get(target, prop, receiver) {
    const value = Reflect.get(target, prop, receiver) as unknown;
    if (typeof value !== "function") return value;
    const fn = (value as (...a: unknown[]) => unknown).bind(target);
    if (!["transcribe", "vad", "embed", "infer"].includes(String(prop))) return fn;
    return async (...args: unknown[]) => {
      if (inFlight++ === 0) busySince = performance.now();
      try {
        return await fn(...args);
      } finally {
        if (--inFlight === 0) modelMs += performance.now() - busySince;
      }
    };
  },
}) as InferenceClient;

const samples = new Map<string, number[]>();
const record = (name: string, ms: number) => samples.set(name, [...(samples.get(name) ?? []), ms]);
const loadBefore = loadavg();

try {
  await soxDtmf("1397*0#58", audio.path("left.wav"), { leadMs: 300, gapMs: 400 });
  await soxDtmf("24680#", audio.path("right.wav"), { leadMs: 1500, gapMs: 600 });
  await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-c", "2", audio.path("pair.wav"), "pad", "0", "30", "trim", "0", "30");
  const repeats = Math.max(1, Math.round((minutes * 60) / 30));
  const call = audio.path("call.wav");
  await sox("-D", ...Array<string>(repeats).fill(audio.path("pair.wav")), "-e", "u-law", "-b", "8", "-r", "8000", call);
  const seconds = repeats * 30;
  const probe = await probeMedia(call);

  let keys = 0;
  let lufs = "";
  const runPipeline = async (separateChannels: boolean) => {
    modelMs = 0;
    const ended = new Map<PipelineStage, number>();
    const started = performance.now();
    const result = await runAudioPipeline(call, { client, model: "dtmf", language: "ar", separateChannels, onProgress: (p) => ended.set(p.stage, performance.now()) });
    const total = performance.now() - started;
    const name = separateChannels ? "pipeline" : "mixed down";
    record(name, total);
    record(`${name} model`, modelMs);
    record(`${name} own`, total - modelMs);
    if (!separateChannels) return;
    let from = started;
    for (const stage of STAGES) {
      const to = ended.get(stage) ?? from;
      record(`stage ${stage}`, to - from - (stage === "recognize" ? modelMs : 0));
      from = to;
    }
    keys = result.segments.reduce((n, s) => n + s.words.length, 0);
    lufs = `${result.loudness!.measuredLufs.toFixed(1)} LUFS measured, gain ${(20 * Math.log10(result.loudness!.gain)).toFixed(1)} dB${result.loudness!.peakLimited ? " (peak-limited)" : ""}`;
  };
  const runBaselines = async () => {
    const ffmpegTo = async (name: string, filters: string[]) => {
      const started = performance.now();
      await exec("ffmpeg", ["-nostdin", "-v", "error", "-i", call, ...filters, "-ac", "2", "-ar", "16000", "-f", "f32le", "-y", "/dev/null"]);
      record(name, performance.now() - started);
    };
    await ffmpegTo("ffmpeg decode", []);
    let started = performance.now();
    const decoded = await decodeAudio(call, { probe, loudnorm: false });
    record("decode into memory", performance.now() - started);
    started = performance.now();
    const meter = new LoudnessMeter(PIPELINE_SAMPLE_RATE, decoded.channels.length);
    meter.push(decoded.channels);
    applyGain(decoded.channels, loudnessGain(meter, decoded.channels, LOUDNESS_TARGET).gain);
    record("loudness", performance.now() - started);
    await ffmpegTo("ffmpeg loudnorm", ["-af", PREVIOUS_LOUDNORM]);
  };
  for (let round = 0; round < rounds; round++) {
    const order = [() => runPipeline(true), () => runPipeline(false), runBaselines];
    // Rotate who goes first each round.
    for (let i = 0; i < order.length; i++) await order[(i + round) % order.length]!();
  }

  const median = (name: string) => {
    const xs = [...samples.get(name)!].sort((a, b) => a - b);
    return xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  };
  const own = median("pipeline own");
  const line = (name: string, ms: number, share?: number) =>
    console.log(
      `  ${name.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s ${`${(seconds / (ms / 1000)).toFixed(1)}×RT`.padStart(11)}${share === undefined ? "" : `${share.toFixed(1).padStart(7)} %`}`,
    );
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  console.log(`bench:batch — ${seconds} s stereo 8 kHz μ-law call, ${keys} keys recognised, median of ${rounds} rounds; ${lufs}`);
  console.log(`  load average before ${load(loadBefore)}, after ${load(loadavg())}, on ${availableParallelism()} cores`);
  // Each row is its own median, so the stages' shares need not add up to exactly 100 %.
  console.log(`  ${"".padEnd(44)} ${"time".padStart(9)} ${"speed".padStart(11)}  share of pipeline − model`);
  line("pipeline, separate channels (dtmf model)", median("pipeline"));
  for (const stage of STAGES) line(`  ${stage}${stage === "recognize" ? " (less model time)" : ""}`, median(`stage ${stage}`), (median(`stage ${stage}`) / own) * 100);
  line("  model time", median("pipeline model"));
  line("pipeline − model time", own, 100);
  line("pipeline − model time, mixed down to mono", median("mixed down own"));
  console.log("  baselines, same rounds:");
  line("ffmpeg decode alone", median("ffmpeg decode"));
  line("decode into memory (ffmpeg → pipe → arrays)", median("decode into memory"));
  line("loudness: measure + one gain, in process", median("loudness"));
  line("ffmpeg decode + loudnorm filter (before)", median("ffmpeg loudnorm"));
  console.log(`  the pipeline's own work costs ${(own / median("ffmpeg decode")).toFixed(1)}× the time of ffmpeg decoding alone`);
} finally {
  inner.close();
  await sidecar.close();
  await audio.remove();
}
