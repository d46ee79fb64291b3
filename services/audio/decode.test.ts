import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createStreamDecoder, decodeAudio, type AudioEncoding, type AudioFormat } from "./index.js";
import { chunks, dB, makeTones, maxAbsDifference, toneAmplitude, withTempDir } from "./test-audio.js";

const ENCODINGS: AudioEncoding[] = ["LINEAR16", "MULAW", "ALAW", "FLAC", "OGG_OPUS"];
const RATES = [8000, 16000, 44100, 48000];
const TONES = [440, 1000]; // channel 1, channel 2

/** The rate a client declares: raw audio needs it, FLAC and Ogg/Opus take it from the header. */
function declared(encoding: AudioEncoding, rate: number, channels: number): AudioFormat {
  const fromHeader = encoding === "FLAC" || encoding === "OGG_OPUS";
  return { encoding, sampleRateHertz: fromHeader ? 0 : rate, channels: fromHeader ? 0 : channels };
}

async function decodeInChunks(format: AudioFormat, parts: Uint8Array[]): Promise<Float32Array[]> {
  const decoder = createStreamDecoder(format);
  try {
    const outputs: Float32Array[][] = [];
    for (const part of parts) outputs.push(await decoder.push(part));
    outputs.push(await decoder.end());
    const channels = outputs.at(-1)!.length;
    return Array.from({ length: channels }, (_, c) => {
      const pieces = outputs.map((o) => o[c] ?? new Float32Array(0));
      const out = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pieces) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    });
  } finally {
    decoder.close();
  }
}

function expectSame(a: Float32Array[], b: Float32Array[]): void {
  expect(a.map((c) => c.length)).toEqual(b.map((c) => c.length));
  for (let c = 0; c < a.length; c++) expect(maxAbsDifference(a[c]!, b[c]!)).toBeLessThanOrEqual(1e-6);
}

describe.each(ENCODINGS)("%s", (encoding) => {
  // Lossy codecs are measured more loosely: G.711 quantises, Opus is perceptual.
  const toleranceDb = encoding === "LINEAR16" || encoding === "FLAC" ? 0.05 : 0.5;

  test.each(RATES)("%i Hz, mono: one second of 440 Hz comes out as one second at 16 kHz at its level", async (rate) => {
    const bytes = makeTones({ encoding, rate, tones: [440] });
    const out = await decodeAudio(declared(encoding, rate, 1), bytes);
    expect(out).toHaveLength(1);
    expect(Math.abs(out[0]!.length - 16000)).toBeLessThanOrEqual(encoding === "OGG_OPUS" ? 320 : 0);
    expect(Math.abs(dB(toneAmplitude(out[0]!, 440) / 0.5))).toBeLessThan(toleranceDb);
    for (const x of out[0]!) expect(Math.abs(x)).toBeLessThanOrEqual(1);
  });

  test.each(RATES)("%i Hz, stereo: each channel keeps its own tone", async (rate) => {
    const bytes = makeTones({ encoding, rate, tones: TONES });
    const out = await decodeAudio(declared(encoding, rate, 2), bytes);
    expect(out).toHaveLength(2);
    for (const [c, own] of TONES.entries()) {
      const other = TONES[1 - c]!;
      expect(Math.abs(dB(toneAmplitude(out[c]!, own) / 0.5))).toBeLessThan(toleranceDb);
      expect(dB(toneAmplitude(out[c]!, other) / 0.5)).toBeLessThan(-40);
    }
  });

  test.each([8000, 48000])("%i Hz stereo pushed in 20 ms chunks equals the whole buffer decoded at once", async (rate) => {
    const format = declared(encoding, rate, 2);
    const bytes = makeTones({ encoding, rate, tones: TONES, seconds: 0.7 });
    const whole = await decodeAudio(format, bytes);
    const bytesPer20ms = encoding === "FLAC" || encoding === "OGG_OPUS" ? Math.round(bytes.length / 35) : (rate / 50) * 2 * (encoding === "LINEAR16" ? 2 : 1);
    expectSame(await decodeInChunks(format, chunks(bytes, bytesPer20ms)), whole);
  });

  test("odd splits (1, 3, 37, 1001 bytes) do not change the output", async () => {
    const format = declared(encoding, 44100, 2);
    const bytes = makeTones({ encoding, rate: 44100, tones: TONES, seconds: 0.3 });
    const whole = await decodeAudio(format, bytes);
    const sizes = [1, 3, 37, 1001];
    const parts: Uint8Array[] = [];
    for (let at = 0, i = 0; at < bytes.length; at += sizes[i % sizes.length]!, i++) parts.push(bytes.subarray(at, at + sizes[i % sizes.length]!));
    expectSame(await decodeInChunks(format, parts), whole);
  });
});

test("Ogg/Opus with 20 ms pages is released page by page, not held to the end", async () => {
  const bytes = makeTones({ encoding: "OGG_OPUS", rate: 48000, tones: [440], seconds: 1 });
  const decoder = createStreamDecoder({ encoding: "OGG_OPUS", sampleRateHertz: 48000, channels: 1 });
  let before = 0;
  for (const part of chunks(bytes, 200)) before += (await decoder.push(part))[0]?.length ?? 0;
  expect(before).toBeGreaterThan(14000); // all but the resampler's tail and the last page
  decoder.close();
});

test("FLAC at 24 bits and a declared rate that matches the header", async () => {
  const bytes = withTempDir((dir) => {
    const path = join(dir, "x.flac");
    execFileSync("sox", ["-D", "-n", "-r", "22050", "-c", "1", "-b", "24", path, "synth", "0.5", "sine", "440", "vol", "0.5"]);
    return new Uint8Array(readFileSync(path));
  });
  const out = await decodeAudio({ encoding: "FLAC", sampleRateHertz: 22050, channels: 1 }, bytes);
  expect(out[0]!.length).toBe(8000);
  expect(Math.abs(dB(toneAmplitude(out[0]!, 440) / 0.5))).toBeLessThan(0.05);
});

test("LINEAR16 with a WAV header: the header is read and skipped", async () => {
  const raw = makeTones({ encoding: "LINEAR16", rate: 16000, tones: TONES, seconds: 0.5 });
  const wav = withTempDir((dir) => {
    const path = join(dir, "x.wav");
    execFileSync("sox", ["-D", "-n", "-r", "16000", "-c", "2", "-b", "16", path, "synth", "0.5", "sine", "440", "sine", "1000", "vol", "0.5"]);
    return new Uint8Array(readFileSync(path));
  });
  const format: AudioFormat = { encoding: "LINEAR16", sampleRateHertz: 16000, channels: 2 };
  const fromRaw = await decodeAudio(format, raw);
  expectSame(await decodeAudio(format, wav), fromRaw);
  expectSame(await decodeInChunks(format, chunks(wav, 5)), fromRaw);
});

test("eight channels of μ-law, each with its own tone", async () => {
  const tones = [300, 500, 700, 900, 1100, 1300, 1500, 1700];
  const bytes = makeTones({ encoding: "MULAW", rate: 8000, tones, seconds: 0.5 });
  const out = await decodeAudio({ encoding: "MULAW", sampleRateHertz: 8000, channels: 8 }, bytes);
  expect(out).toHaveLength(8);
  for (const [c, f] of tones.entries()) expect(Math.abs(dB(toneAmplitude(out[c]!, f) / 0.5))).toBeLessThan(0.5);
});

test("no audio at all decodes to empty channels", async () => {
  expect(await decodeAudio({ encoding: "LINEAR16", sampleRateHertz: 8000, channels: 2 }, new Uint8Array(0))).toEqual([new Float32Array(0), new Float32Array(0)]);
  expect(await decodeAudio({ encoding: "FLAC", sampleRateHertz: 0, channels: 0 }, new Uint8Array(0))).toEqual([]);
});

test("channel count 0 means mono for raw encodings", async () => {
  const out = await decodeAudio({ encoding: "ALAW", sampleRateHertz: 8000, channels: 0 }, makeTones({ encoding: "ALAW", rate: 8000, tones: [440], seconds: 0.1 }));
  expect(out).toHaveLength(1);
});

test("calls made without awaiting run in order; close is idempotent", async () => {
  const bytes = makeTones({ encoding: "LINEAR16", rate: 8000, tones: [440], seconds: 0.5 });
  const format: AudioFormat = { encoding: "LINEAR16", sampleRateHertz: 8000, channels: 1 };
  const decoder = createStreamDecoder(format);
  const pending = chunks(bytes, 161).map((c) => decoder.push(c));
  pending.push(decoder.end());
  const outputs = await Promise.all(pending);
  decoder.close();
  decoder.close();
  const joined = Float32Array.from(outputs.flatMap((o) => Array.from(o[0]!)));
  expectSame([joined], await decodeAudio(format, bytes));
});

describe("pushNow, the live path's push without a promise", () => {
  test("gives a raw encoding's chunks what push gives them, and the arrays it returns stay its caller's", async () => {
    // 16 kHz μ-law passes the resampler untouched: the decoder's own arrays, were they handed out, would show here.
    const format: AudioFormat = { encoding: "MULAW", sampleRateHertz: 16000, channels: 2 };
    const bytes = makeTones({ encoding: "MULAW", rate: 16000, tones: TONES, seconds: 0.2 });
    const now = createStreamDecoder(format);
    const later = createStreamDecoder(format);
    const fromNow: Float32Array[][] = [];
    const fromPush: Float32Array[][] = [];
    for (const part of chunks(bytes, 640)) {
      fromNow.push(now.pushNow!(part)!);
      fromPush.push(await later.push(part));
    }
    expect(fromNow).toEqual(fromPush);
    expect(fromNow[0]![0]).not.toEqual(fromNow[1]![0]);
    now.close();
    later.close();
  });

  test("leaves a container's chunks to push, and throws what push rejects with", async () => {
    const flac = createStreamDecoder({ encoding: "FLAC", sampleRateHertz: 0, channels: 0 });
    expect(flac.pushNow!(new TextEncoder().encode("fLaC"))).toBeUndefined();
    flac.close();
    const pcm = createStreamDecoder({ encoding: "LINEAR16", sampleRateHertz: 8000, channels: 1 }, { maxChunkBytes: 4 });
    expect(() => pcm.pushNow!(new Uint8Array(6))).toThrow(/over the limit/);
    await expect(pcm.push(new Uint8Array(2))).rejects.toThrow(/over the limit/);
    pcm.close();
  });
});
