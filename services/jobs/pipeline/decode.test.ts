// decode: channels kept apart at 16 kHz (or mixed down to their mean), loudness brought to the target by
// one gain measured in the same decode, the filter chain asked for, progress, failures with ffmpeg's own
// words, and cancellation that really ends the ffmpeg process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { createAudioDir, sox, type AudioDir } from "../../../inference/local/testing/audio.js";
import { audioFilters, decodeAudio, DecodeFailedError, decodeStream, ffmpegDecodeArgs, LOUDNESS_TARGET } from "./decode.js";
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

  it("brings a quiet call to −16 LUFS with one gain: the level within the file keeps its shape", async () => {
    // A tone at −40 dBFS for 2 s, then the same tone 10 dB louder for 2 s: one gain raises both alike.
    const quiet = dir.path("quiet.wav");
    await sox("-D", "-n", "-r", "8000", "-c", "1", dir.path("a.wav"), "synth", "2", "sine", "440", "vol", "0.01");
    await sox("-D", "-n", "-r", "8000", "-c", "1", dir.path("b.wav"), "synth", "2", "sine", "440", "vol", "0.0316");
    await sox("-D", dir.path("a.wav"), dir.path("b.wav"), quiet);
    const decoded = await decodeAudio(quiet, { probe: await probeMedia(quiet) });
    const [mono] = decoded.channels as [Float32Array];
    const first = rms(mono.subarray(8_000, 24_000));
    const second = rms(mono.subarray(40_000, 56_000));
    expect(20 * Math.log10(second / first)).toBeCloseTo(10, 0);
    expect(decoded.loudness!.measuredLufs).toBeLessThan(-30);
    expect(decoded.loudness!.peakLimited).toBe(false);
    // After the gain the file reads at the target: its gain moved it by exactly the difference.
    expect(decoded.loudness!.measuredLufs + 20 * Math.log10(decoded.loudness!.gain)).toBeCloseTo(LOUDNESS_TARGET.integratedLufs, 5);
  });

  it("mixes the channels down to their mean when asked", async () => {
    const plain = await decodeAudio(stereo, { probe: stereoProbe, loudnorm: false });
    const mixed = await decodeAudio(stereo, { probe: stereoProbe, loudnorm: false, mixdown: true });
    expect(mixed.channels).toHaveLength(1);
    expect(mixed.channels[0]!.length).toBe(plain.channels[0]!.length);
    // Left tone, right silence: the mean is the tone at half its level (−6 dB).
    expect(rms(mixed.channels[0]!) / rms(plain.channels[0]!)).toBeCloseTo(0.5, 2);
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
  it("denoises before mixing down, with RNNoise only when a model is configured; loudness is not ffmpeg's", () => {
    expect(audioFilters({})).toBeUndefined();
    expect(audioFilters({ denoise: true })).toBe("afftdn");
    expect(audioFilters({ denoise: { rnnoiseModel: "/models/rnnoise/sh.rnnn" } })).toBe("afftdn,arnndn=m=/models/rnnoise/sh.rnnn");
    expect(audioFilters({ denoise: { fft: false, rnnoiseModel: "cb.rnnn" } })).toBe("arnndn=m=cb.rnnn");
    expect(audioFilters({ denoise: true, mixdown: true, channels: 2 })).toBe("afftdn,pan=mono|c0=0.5*c0+0.5*c1");
    expect(audioFilters({ mixdown: true, channels: 1 })).toBeUndefined();
  });

  it("refuses an RNNoise model path that would need filtergraph escaping", () => {
    expect(() => audioFilters({ denoise: { rnnoiseModel: "/models/a:b,c.rnnn" } })).toThrow(InvalidArgumentError);
  });

  it("decodes the probed stream, channel count unchanged, to 16 kHz f32le on stdout", () => {
    const args = ffmpegDecodeArgs("/uploads/-odd name.wav", { probe: { channels: 2, streamIndex: 1, durationSeconds: 1 }, loudnorm: false });
    expect(args.join(" ")).toBe("-nostdin -hide_banner -v error -i file:/uploads/-odd name.wav -map 0:1 -vn -sn -dn -ac 2 -ar 16000 -f f32le -c:a pcm_f32le pipe:1");
    const mixed = ffmpegDecodeArgs("/uploads/call.wav", { probe: { channels: 3, streamIndex: 0, durationSeconds: 1 }, mixdown: true });
    expect(mixed.join(" ")).toContain("-af pan=mono|c0=0.333333*c0+0.333333*c1+0.333333*c2 -ac 1 -ar 16000");
  });
});
