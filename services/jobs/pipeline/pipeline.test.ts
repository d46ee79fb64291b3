// The audio pipeline end to end, as the job runner calls it: a generated stereo telephone call
// (each party dials different keys on its own channel, 8 kHz μ-law, as call recorders write it, and
// the same call re-encoded by ffmpeg as MP3, Opus and FLAC) goes through probe, decode, the energy
// gate the dtmf model's config asks for, chunking, recognition on a real sidecar over gRPC, and
// diarization by channel. The keys, their times and the speakers must come back exactly. Without
// separate channels the call is mixed down and recognised once, every key still in its place.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../../inference/client/index.js";
import { startSidecar, type Sidecar } from "../../../inference/local/server.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../../inference/local/testing/audio.js";
import { writeSpeakerEmbeddingOnnx } from "../../../inference/local/testing/onnx-model.js";
import { channelsIdentical, runAudioPipeline, UnusableMediaError, type AudioPipelineResult, type PipelineProgress } from "./index.js";
import { ffmpeg } from "../../audio/ffmpeg-testing.js";

const logger = pino({ level: "silent" });
const LEFT_KEYS = "1397";
const RIGHT_KEYS = "*0#58";
/** Tone times are generated to the sample; the detector's hop is 10 ms and codecs shift edges a little. */
const TIME_TOLERANCE = 0.04;

let audio: AudioDir;
let sidecar: Sidecar;
let client: InferenceClient;
let call: string;
let leftTimes: { key: string; start: number; end: number }[];
let rightTimes: { key: string; start: number; end: number }[];

beforeAll(async () => {
  audio = await createAudioDir("pipeline-e2e-");
  // A speaker_embedding model is installed, so the mono test below takes the embedding path; the
  // stereo call must still be diarized by channel.
  await writeSpeakerEmbeddingOnnx(join(audio.dir, "weights", "speaker_embedding", "model.onnx"));
  sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir: join(audio.dir, "weights"), logger });
  client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`] });

  // The caller dials first; the other party answers 1.5 s later, so the channels overlap in time.
  leftTimes = await soxDtmf(LEFT_KEYS, audio.path("left.wav"), { leadMs: 300 });
  rightTimes = await soxDtmf(RIGHT_KEYS, audio.path("right.wav"), { leadMs: 1500 });
  call = audio.path("call.wav");
  // -M: merge the two mono files as the left and right channels (the shorter padded with silence).
  await sox("-D", "-M", audio.path("left.wav"), audio.path("right.wav"), "-e", "u-law", "-b", "8", "-r", "8000", call);
  await ffmpeg("-i", call, "-c:a", "libmp3lame", "-b:a", "64k", audio.path("call.mp3"));
  await ffmpeg("-i", call, "-c:a", "libopus", "-b:a", "48k", audio.path("call.opus"));
  await ffmpeg("-i", call, "-c:a", "flac", audio.path("call.flac"));
});

afterAll(async () => {
  client?.close();
  await sidecar?.close();
  await audio?.remove();
});

function keysOf(result: AudioPipelineResult, channel: number) {
  return result.segments.filter((s) => s.channel === channel).flatMap((s) => s.words.map((w) => ({ ...w, speaker: s.speaker })));
}

function expectCall(result: AudioPipelineResult) {
  expect(result.probe.channels).toBe(2);
  expect(result.gate).toBe("energy");
  expect(result.identicalChannels).toBe(false);
  expect(result.diarization.method).toBe("channel");
  expect(result.speakers).toEqual([
    { id: "S1", channel: 0 },
    { id: "S2", channel: 1 },
  ]);
  for (const [channel, expected, speaker] of [
    [0, leftTimes, "S1"],
    [1, rightTimes, "S2"],
  ] as const) {
    const keys = keysOf(result, channel);
    expect(keys.map((k) => k.word).join("")).toBe(expected.map((t) => t.key).join(""));
    keys.forEach((k, i) => {
      expect(Math.abs(k.start - expected[i]!.start)).toBeLessThan(TIME_TOLERANCE);
      expect(Math.abs(k.end - expected[i]!.end)).toBeLessThan(TIME_TOLERANCE);
      expect(k.speaker).toBe(speaker);
      expect(k.confidence).toBeGreaterThan(0);
    });
  }
  // Segments come in time order across channels.
  const starts = result.segments.map((s) => s.start);
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
}

describe("runAudioPipeline on a stereo DTMF call with the dtmf model", () => {
  it("recognises each party's keys on its own channel, with file times and speakers by channel (8 kHz μ-law WAV)", async () => {
    const progress: PipelineProgress[] = [];
    const result = await runAudioPipeline(call, { client, model: "dtmf", language: "ar", separateChannels: true, onProgress: (p) => progress.push(p) });
    expect(result.probe.codec).toBe("pcm_mulaw");
    expect(result.probe.sampleRate).toBe(8000);
    expectCall(result);
    // Progress only moves forward and ends at 1, through every stage.
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(["probe", "decode", "segment", "recognize", "diarize"]));
  });

  it.each(["mp3", "opus", "flac"])("gives the same keys, times and speakers from the call re-encoded as %s", async (extension) => {
    const result = await runAudioPipeline(audio.path(`call.${extension}`), { client, model: "dtmf", separateChannels: true, denoise: extension === "mp3" });
    expectCall(result);
  });

  it("treats a stereo file with the same signal on both channels as mono, and says so", async () => {
    const dual = audio.path("dual.wav");
    await sox("-D", audio.path("left.wav"), "-c", "2", dual);
    const result = await runAudioPipeline(dual, { client, model: "dtmf", separateChannels: true });
    expect(result.identicalChannels).toBe(true);
    expect(result.channels).toHaveLength(1);
    expect(result.segments.flatMap((s) => s.words.map((w) => w.word)).join("")).toBe(LEFT_KEYS);
    // Mono with the speaker model ready: diarized by embeddings (random weights: the count of
    // speakers means nothing, only that every segment has one of them).
    expect(result.diarization.method).toBe("embedding");
    expect(result.diarization.reason).toMatch(/same signal/);
    const ids = new Set(result.speakers.map((s) => s.id));
    for (const segment of result.segments) expect(ids.has(segment.speaker)).toBe(true);
  });
});

describe("runAudioPipeline without separate channels", () => {
  it("mixes the call down to mono: both parties' keys at their times, from one recognition, and says why", async () => {
    const result = await runAudioPipeline(call, { client, model: "dtmf" });
    expect(result.probe.channels).toBe(2);
    expect(result.channels).toHaveLength(1);
    expect(result.identicalChannels).toBe(false);
    // The parties take turns (the caller's keys end before the other party's begin), so the mix holds
    // every key alone, at the time it was dialled.
    const expected = [...leftTimes, ...rightTimes];
    const keys = keysOf(result, 0);
    expect(keys.map((k) => k.word).join("")).toBe(LEFT_KEYS + RIGHT_KEYS);
    keys.forEach((k, i) => expect(Math.abs(k.start - expected[i]!.start)).toBeLessThan(TIME_TOLERANCE));
    expect(result.segments.every((s) => s.channel === 0)).toBe(true);
    expect(result.diarization.reason).toMatch(/^the 2 channels were mixed down to mono, as separate_recognition_per_channel was not set/);
    // Brought to the loudness target by one gain, measured in the decode.
    expect(result.loudness!.measuredLufs + 20 * Math.log10(result.loudness!.gain)).toBeLessThanOrEqual(-16 + 1e-9);
  });
});

describe("runAudioPipeline failing", () => {
  it("stops when the job is cancelled, before recognising anything", async () => {
    const controller = new AbortController();
    const stages: string[] = [];
    const running = runAudioPipeline(call, {
      client,
      model: "dtmf",
      signal: controller.signal,
      onProgress: (p) => {
        stages.push(p.stage);
        if (p.stage === "decode") controller.abort(new Error("job cancelled"));
      },
    });
    await expect(running).rejects.toThrow("job cancelled");
    expect(stages).not.toContain("recognize");
  });

  it("fails with the file's problem for a file that is not audio", async () => {
    await writeFile(audio.path("call.txt"), "not a call\n");
    const err = await runAudioPipeline(audio.path("call.txt"), { client, model: "dtmf" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnusableMediaError);
    expect((err as UnusableMediaError).reason).toBe("not_media");
  });

  it("fails before decoding when the model is not in the repository", async () => {
    const stages: string[] = [];
    await expect(runAudioPipeline(call, { client, model: "no_such_model", onProgress: (p) => stages.push(p.stage) })).rejects.toThrow(/no_such_model/);
    expect(stages).not.toContain("decode");
  });
});

describe("channelsIdentical", () => {
  it("is true for copies and false for different signals", () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10));
    expect(channelsIdentical([a, a.slice()])).toBe(true);
    expect(channelsIdentical([a, a.map((v) => v * 0.5)])).toBe(false);
    expect(channelsIdentical([a, new Float32Array(1000)])).toBe(false);
  });
});
