// decode: channels kept apart at 16 kHz, the filter chain asked for, progress, failures with
// ffmpeg's own words, and cancellation that really ends the ffmpeg process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { createAudioDir, sox, type AudioDir } from "../../../inference/local/testing/audio.js";
import { audioFilters, decodeAudio, DecodeFailedError, decodeStream, ffmpegDecodeArgs } from "./decode.js";
import { probeMedia, type MediaProbe } from "../../audio/probe.js";

let dir: AudioDir;
let stereo: string;
let stereoProbe: MediaProbe;
let long: string;

beforeAll(async () => {
  dir = await createAudioDir("pipeline-decode-");
  // Left: a 1 kHz tone for 1 s; right: silence. 8 kHz μ-law, as a call recorder writes it.
  stereo = dir.path("stereo.wav");
  await sox("-D", "-n", "-r", "8000", "-c", "2", "-e", "u-law", "-b", "8", stereo, "synth", "1", "sine", "1000", "remix", "1", "0");
  stereoProbe = await probeMedia(stereo);
  // Long enough that a decode is still running when the test aborts it.
  long = dir.path("long.flac");
  await sox("-D", "-n", "-r", "8000", "-c", "1", long, "synth", "600", "whitenoise", "vol", "0.1");
});

afterAll(async () => {
  await dir?.remove();
});

const rms = (samples: Float32Array) => Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / samples.length);

/** True while a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("decodeAudio", () => {
  it("keeps the channels apart, at 16 kHz", async () => {
    const fractions: number[] = [];
    const decoded = await decodeAudio(stereo, { probe: stereoProbe, loudnorm: false, onProgress: (f) => fractions.push(f) });
    expect(decoded.sampleRate).toBe(16_000);
    expect(decoded.channels).toHaveLength(2);
    const [left, right] = decoded.channels as [Float32Array, Float32Array];
    expect(left.length).toBe(right.length);
    expect(Math.abs(left.length - 16_000)).toBeLessThan(160);
    // A full-scale sine has an RMS of 0.707; μ-law and resampling cost little.
    expect(rms(left)).toBeGreaterThan(0.6);
    expect(rms(right)).toBeLessThan(0.001);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });

  it("denoises and normalises loudness without mixing the channels", async () => {
    const decoded = await decodeAudio(stereo, { probe: stereoProbe, denoise: true });
    const [left, right] = decoded.channels as [Float32Array, Float32Array];
    expect(rms(left)).toBeGreaterThan(0.05);
    expect(rms(right)).toBeLessThan(0.001);
  });

  it("fails with ffmpeg's reason, without the server's path", async () => {
    // A stream index the file does not have: ffmpeg refuses the mapping.
    const err = await decodeAudio(stereo, { probe: { ...stereoProbe, streamIndex: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeFailedError);
    expect((err as DecodeFailedError).message).toMatch(/ffmpeg could not decode the audio \(exit code \d+\): .*matches no streams/);
    expect((err as DecodeFailedError).stderrTail).not.toContain(dir.dir);
  });

  it("kills ffmpeg when the signal aborts", async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    const decoding = decodeAudio(long, {
      probe: await probeMedia(long),
      signal: controller.signal,
      onSpawn: (p) => (pid = p),
      // Abort as soon as some audio has come out: ffmpeg is mid-file.
      onProgress: (f) => f > 0 && controller.abort(new Error("job cancelled")),
    });
    await expect(decoding).rejects.toThrow("job cancelled");
    expect(pid).toBeDefined();
    expect(alive(pid!)).toBe(false);
  });

  it("kills ffmpeg when the consumer stops reading", async () => {
    let pid: number | undefined;
    for await (const block of decodeStream(long, { probe: await probeMedia(long), loudnorm: false, onSpawn: (p) => (pid = p) })) {
      expect(block).toHaveLength(1);
      break;
    }
    expect(alive(pid!)).toBe(false);
  });
});

describe("the filter chain", () => {
  it("denoises before normalising, with RNNoise only when a model is configured", () => {
    expect(audioFilters({})).toBe("loudnorm=I=-16:TP=-1.5:LRA=11");
    expect(audioFilters({ loudnorm: false })).toBeUndefined();
    expect(audioFilters({ denoise: true, loudnorm: false })).toBe("afftdn");
    expect(audioFilters({ denoise: { rnnoiseModel: "/models/rnnoise/sh.rnnn" } })).toBe("afftdn,arnndn=m=/models/rnnoise/sh.rnnn,loudnorm=I=-16:TP=-1.5:LRA=11");
    expect(audioFilters({ denoise: { fft: false, rnnoiseModel: "cb.rnnn" }, loudnorm: false })).toBe("arnndn=m=cb.rnnn");
  });

  it("refuses an RNNoise model path that would need filtergraph escaping", () => {
    expect(() => audioFilters({ denoise: { rnnoiseModel: "/models/a:b,c.rnnn" } })).toThrow(InvalidArgumentError);
  });

  it("decodes the probed stream, channel count unchanged, to 16 kHz f32le on stdout", () => {
    const args = ffmpegDecodeArgs("/uploads/-odd name.wav", { probe: { channels: 2, streamIndex: 1, durationSeconds: 1 }, loudnorm: false });
    expect(args.join(" ")).toBe("-nostdin -hide_banner -v error -i file:/uploads/-odd name.wav -map 0:1 -vn -sn -dn -ac 2 -ar 16000 -f f32le -c:a pcm_f32le pipe:1");
  });
});
