// Test audio made by the real tools (sox, ffmpeg) and measured with a Goertzel filter. Test-only.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AudioEncoding } from "./encodings.js";
import { MODEL_SAMPLE_RATE } from "./rates.js";

export interface ToneSpec {
  encoding: AudioEncoding;
  rate: number;
  /** One frequency per channel. */
  tones: number[];
  seconds?: number;
  /** Linear amplitude of every tone. */
  amplitude?: number;
}

const SOX_RAW: Partial<Record<AudioEncoding, string[]>> = {
  LINEAR16: ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L"],
  MULAW: ["-t", "raw", "-e", "u-law", "-b", "8"],
  ALAW: ["-t", "raw", "-e", "a-law", "-b", "8"],
  FLAC: ["-t", "flac", "-b", "16"],
};

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "audio-test-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** sox synthesising one sine per channel, written in `spec.encoding` (Ogg/Opus by ffmpeg's libopus). */
export function makeTones(spec: ToneSpec): Uint8Array {
  const { encoding, rate, tones, seconds = 1, amplitude = 0.5 } = spec;
  return withTempDir((dir) => {
    const synth = ["-n", "-r", String(rate), "-c", String(tones.length)];
    const effects = ["synth", String(seconds), ...tones.flatMap((f) => ["sine", String(f)]), "vol", String(amplitude)];
    const out = join(dir, "out");
    if (encoding === "OGG_OPUS") {
      const wav = join(dir, "in.wav");
      execFileSync("sox", ["-D", ...synth, "-b", "16", wav, ...effects]);
      execFileSync("ffmpeg", ["-loglevel", "error", "-i", wav, "-c:a", "libopus", "-page_duration", "20000", "-f", "ogg", out]);
    } else {
      execFileSync("sox", ["-D", ...synth, ...SOX_RAW[encoding]!, out, ...effects]);
    }
    return new Uint8Array(readFileSync(out));
  });
}

/** Runs sox on raw input bytes and returns its raw output bytes. */
export function soxConvert(input: Uint8Array, inArgs: string[], outArgs: string[]): Uint8Array {
  return withTempDir((dir) => {
    const inPath = join(dir, "in");
    const outPath = join(dir, "out");
    execFileSync("sh", ["-c", 'cat > "$0"', inPath], { input: input });
    execFileSync("sox", [...inArgs, inPath, ...outArgs, outPath]);
    return new Uint8Array(readFileSync(outPath));
  });
}

/** Amplitude of the `frequency` component of `samples` (Goertzel over the middle of the signal, Hann-windowed). */
export function toneAmplitude(samples: Float32Array, frequency: number, rate = MODEL_SAMPLE_RATE): number {
  const skip = Math.floor(samples.length / 10); // leave out onset and tail
  const n = samples.length - 2 * skip;
  const w = (2 * Math.PI * frequency) / rate;
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const x = samples[skip + i]! * hann;
    re += x * Math.cos(w * i);
    im -= x * Math.sin(w * i);
    windowSum += hann;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

export function dB(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** Splits bytes into chunks of `size` (the last may be shorter). */
export function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
