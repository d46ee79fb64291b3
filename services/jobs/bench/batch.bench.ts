// npm run bench:batch [-- --minutes 10 --rounds 3]
//
// Throughput of the batch pipeline (runAudioPipeline: probe, ffmpeg decode with loudness normalisation,
// energy segmentation, chunking, recognition through the inference client to a sidecar on loopback, and
// diarization by channel) on a generated stereo call, 8 kHz μ-law WAV as call recorders write it: each party
// dials keys on its own channel, a 30 s call repeated to --minutes. The dtmf model stands in for ASR.
//
//   ×RT = seconds of audio / seconds taken. Higher is better.
//   pipeline            the whole runAudioPipeline call, wall clock.
//   model time          wall time during which at least one inference call was in flight (the union of the
//                       calls' intervals, so concurrent calls are not counted twice).
//   pipeline − model    the pipeline's own throughput, excluding model time: what the worker adds.
//   ffmpeg decode alone the baseline: ffmpeg decoding the same file to 16 kHz float PCM, to nowhere.
//   ffmpeg + loudnorm   the same with the pipeline's filter chain (audioFilters): the part of the
//                       pipeline's own time that is ffmpeg's loudness filter rather than ours.
//
// Medians over --rounds; the variants alternate each round so drift on a shared machine hits both.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { createInferenceClient, type InferenceClient } from "../../../inference/client/index.js";
import { startSidecar } from "../../../inference/local/server.js";
import { createAudioDir, sox, soxDtmf } from "../../../inference/local/testing/audio.js";
import { audioFilters, runAudioPipeline } from "../pipeline/index.js";

const exec = promisify(execFile);
const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, rounds: { type: "string", default: "3" } } });
const minutes = Number(values.minutes);
const rounds = Number(values.rounds);

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

try {
  await soxDtmf("1397*0#58", audio.path("left.wav"), { leadMs: 300, gapMs: 400 });
  await soxDtmf("24680#", audio.path("right.wav"), { leadMs: 1500, gapMs: 600 });
  await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-c", "2", audio.path("pair.wav"), "pad", "0", "30", "trim", "0", "30");
  const repeats = Math.max(1, Math.round((minutes * 60) / 30));
  const call = audio.path("call.wav");
  await sox("-D", ...Array<string>(repeats).fill(audio.path("pair.wav")), "-e", "u-law", "-b", "8", "-r", "8000", call);
  const seconds = repeats * 30;

  const pipeline: number[] = [];
  const model: number[] = [];
  const decode: number[] = [];
  const filtered: number[] = [];
  let keys = 0;
  for (let round = 0; round < rounds; round++) {
    const runPipeline = async () => {
      modelMs = 0;
      const started = performance.now();
      const result = await runAudioPipeline(call, { client, model: "dtmf", language: "ar" });
      pipeline.push(performance.now() - started);
      model.push(modelMs);
      keys = result.segments.reduce((n, s) => n + s.words.length, 0);
    };
    const runDecode = async () => {
      const started = performance.now();
      await exec("ffmpeg", ["-nostdin", "-v", "error", "-i", call, "-ac", "2", "-ar", "16000", "-f", "f32le", "-y", "/dev/null"]);
      decode.push(performance.now() - started);
      const withFilters = performance.now();
      await exec("ffmpeg", ["-nostdin", "-v", "error", "-i", call, "-af", audioFilters({})!, "-ac", "2", "-ar", "16000", "-f", "f32le", "-y", "/dev/null"]);
      filtered.push(performance.now() - withFilters);
    };
    if (round % 2 === 0) {
      await runPipeline();
      await runDecode();
    } else {
      await runDecode();
      await runPipeline();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rt = (ms: number) => `${(seconds / (ms / 1000)).toFixed(1)}×RT`;
  const own = pipeline.map((p, i) => p - model[i]!);
  const rows: Array<[string, number]> = [
    ["pipeline (with the dtmf model)", median(pipeline)],
    ["model time", median(model)],
    ["pipeline − model time", median(own)],
    ["ffmpeg decode alone (baseline)", median(decode)],
    ["ffmpeg decode + loudnorm", median(filtered)],
  ];
  console.log(`bench:batch — ${seconds} s stereo 8 kHz μ-law call, ${keys} keys recognised, median of ${rounds} rounds`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${rt(ms).padStart(10)}`);
  console.log(`  the pipeline's own work costs ${(median(own) / median(decode)).toFixed(1)}× the time of ffmpeg decoding alone`);
} finally {
  inner.close();
  await sidecar.close();
  await audio.remove();
}
