// The loudness meter against BS.1770's own reference points and against ffmpeg's `ebur128` filter (which
// measures at 48 kHz) on generated audio; the gating; chunking that must not change a reading; the true
// peak between samples; and the one gain, with its peak ceiling.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, type AudioDir } from "../../inference/local/testing/audio.js";
import { applyGain, LoudnessMeter, loudnessGain, SILENT_LUFS, truePeak } from "./loudness.js";

const exec = promisify(execFile);

let dir: AudioDir;

beforeAll(async () => {
  dir = await createAudioDir("loudness-");
});

afterAll(async () => {
  await dir?.remove();
});

function sine(frequency: number, amplitude: number, seconds: number, rate: number, phase = 0): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate + phase));
}

function measure(channels: Float32Array[], rate: number): LoudnessMeter {
  const meter = new LoudnessMeter(rate, channels.length);
  meter.push(channels);
  return meter;
}

/** A file as 16 kHz float samples per channel, decoded by ffmpeg as the pipeline decodes it. */
async function decode16k(file: string, channels: number): Promise<Float32Array[]> {
  const { stdout } = await exec("ffmpeg", ["-v", "error", "-i", file, "-ac", String(channels), "-ar", "16000", "-f", "f32le", "pipe:1"], { encoding: "buffer", maxBuffer: 64 << 20 });
  const interleaved = new Float32Array(new Uint8Array(stdout).buffer);
  const frames = interleaved.length / channels;
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: frames }, (_, i) => interleaved[i * channels + c]!));
}

/** ffmpeg's own reading of a file: the ebur128 filter's integrated loudness (it resamples to 48 kHz first). */
async function ebur128(file: string): Promise<number> {
  const { stderr } = await exec("ffmpeg", ["-nostats", "-hide_banner", "-i", file, "-af", "ebur128", "-f", "null", "-"]);
  const match = /Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS/.exec(stderr);
  if (!match) throw new Error(`no integrated loudness in ffmpeg's summary: ${stderr.slice(-500)}`);
  return Number(match[1]);
}

describe("LoudnessMeter", () => {
  it("reads a 1 kHz sine at −23 dBFS in both channels as −23 LUFS, at 48 and at 16 kHz (EBU Tech 3341's first case)", () => {
    for (const rate of [48_000, 16_000]) {
      const tone = sine(1000, 10 ** (-23 / 20), 20, rate);
      // EBU Tech 3341 test 1 allows ±0.1 LU.
      expect(Math.abs(measure([tone, tone], rate).integrated() + 23)).toBeLessThan(0.1);
    }
  });

  it("gates: silence reads as silent, and a long silence does not lower a tone's reading", () => {
    const rate = 16_000;
    expect(measure([new Float32Array(rate * 5)], rate).integrated()).toBe(SILENT_LUFS);
    const tone = sine(1000, 0.1, 5, rate);
    const withSilence = new Float32Array(rate * 60);
    withSilence.set(tone, rate * 10);
    // Within the few blocks that straddle the tone's edges (−0.25 LU here); ungated, the 55 s of silence
    // would have lowered it by 10.8 LU.
    expect(Math.abs(measure([withSilence], rate).integrated() - measure([tone], rate).integrated())).toBeLessThan(0.5);
  });

  it("reads the same whatever the blocks the samples arrive in", () => {
    const rate = 16_000;
    const left = sine(300, 0.3, 7.3, rate);
    const right = sine(2500, 0.05, 7.3, rate);
    const whole = measure([left, right], rate);
    const pieces = new LoudnessMeter(rate, 2);
    for (let at = 0, size = 1; at < left.length; at += size, size = (size * 7 + 13) % 5000) {
      pieces.push([left.subarray(at, at + size), right.subarray(at, at + size)]);
    }
    expect(pieces.integrated()).toBe(whole.integrated());
    expect(pieces.samplePeak).toBe(whole.samplePeak);
  });

  it.each([
    ["pink noise", ["synth", "8", "pinknoise", "vol", "0.2"]],
    ["a telephone-band chord with pauses", ["synth", "1", "sine", "350", "sine", "440", "vol", "0.4", "pad", "0.5", "0.7", "repeat", "4"]],
  ])("agrees with ffmpeg's ebur128 (at 48 kHz) to 0.3 LU on %s decoded at 16 kHz for the models", async (_name, effects) => {
    const file = dir.path(`${_name.replace(/\W+/g, "-")}.wav`);
    await sox("-D", "-n", "-r", "8000", "-c", "1", file, ...effects);
    const ours = measure(await decode16k(file, 1), 16_000).integrated();
    expect(Math.abs(ours - (await ebur128(file)))).toBeLessThan(0.3);
  });
});

describe("truePeak", () => {
  it("finds a peak between samples that the samples themselves miss", () => {
    // A quarter of the rate, 45° out of phase: every sample sits at 0.707 of the sine's true amplitude.
    const rate = 16_000;
    const tone = sine(rate / 4, 0.5, 1, rate, Math.PI / 4);
    const samplePeak = measure([tone], rate).samplePeak;
    expect(samplePeak).toBeCloseTo(0.5 * Math.SQRT1_2, 3);
    expect(truePeak([tone], samplePeak)).toBeCloseTo(0.5, 1);
  });
});

describe("loudnessGain", () => {
  it("brings audio to the target by one gain", () => {
    const rate = 16_000;
    const tone = sine(1000, 0.01, 5, rate);
    const meter = measure([tone], rate);
    const result = loudnessGain(meter, [tone], { integratedLufs: -16, truePeakDbtp: -1.5 });
    expect(result.peakLimited).toBe(false);
    applyGain([tone], result.gain);
    expect(measure([tone], rate).integrated()).toBeCloseTo(-16, 3);
  });

  it("stops short of the target where the true peak would pass the ceiling", () => {
    // Quiet speech-like level with one loud click: the click, not the target, sets the gain.
    const rate = 16_000;
    const audio = sine(1000, 0.01, 5, rate);
    audio[rate] = 0.5;
    const result = loudnessGain(measure([audio], rate), [audio], { integratedLufs: -16, truePeakDbtp: -1.5 });
    expect(result.peakLimited).toBe(true);
    applyGain([audio], result.gain);
    expect(20 * Math.log10(truePeak([audio], measure([audio], rate).samplePeak))).toBeCloseTo(-1.5, 1);
  });

  it("leaves silence alone", () => {
    const silence = new Float32Array(16_000);
    expect(loudnessGain(measure([silence], 16_000), [silence], { integratedLufs: -16, truePeakDbtp: -1.5 }).gain).toBe(1);
  });
});
