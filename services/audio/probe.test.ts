// probeMedia on generated media: what it reports for audio and for video with audio, and the
// reasons it gives for files the pipeline cannot transcribe.
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { probeMedia, UnusableMediaError, type UnusableMediaReason } from "./probe.js";
import { ffmpeg } from "./ffmpeg-testing.js";

let dir: AudioDir;

beforeAll(async () => {
  dir = await createAudioDir("pipeline-probe-");
  await soxDtmf("159", dir.path("mono.wav"), { gapMs: 400 });
  await sox("-D", dir.path("mono.wav"), "-c", "2", "-e", "u-law", "-b", "8", dir.path("call.wav"));
});

afterAll(async () => {
  await dir?.remove();
});

async function refusal(file: string): Promise<UnusableMediaError> {
  const err = await probeMedia(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnusableMediaError);
  // The gateway maps it like any invalid argument.
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return err as UnusableMediaError;
}

/** The first half of `source`'s bytes, as an interrupted upload leaves it. */
async function truncated(source: string, target: string): Promise<string> {
  const bytes = await readFile(source);
  await writeFile(target, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return target;
}

describe("probeMedia", () => {
  it("reports codec, channels, rate, container and duration of a μ-law call", async () => {
    const probe = await probeMedia(dir.path("call.wav"));
    expect(probe).toMatchObject({ codec: "pcm_mulaw", channels: 2, sampleRate: 8000, formatName: "wav", streamIndex: 0, hasVideo: false });
    // 0.2 s lead, then 3 × (0.1 s tone + 0.4 s gap).
    expect(probe.durationSeconds).toBeCloseTo(1.7, 2);
  });

  it("accepts video with audio, pointing at its audio stream", async () => {
    const video = dir.path("video.mp4");
    await ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", "-i", dir.path("mono.wav"), "-map", "0:v", "-map", "1:a", "-c:v", "mpeg4", "-c:a", "aac", "-shortest", video);
    const probe = await probeMedia(video);
    expect(probe).toMatchObject({ codec: "aac", channels: 1, hasVideo: true, streamIndex: 1 });
  });

  it.each<[string, UnusableMediaReason, RegExp, (d: AudioDir) => Promise<string>]>([
    [
      "a text file",
      "not_media",
      /not a readable audio or video file \(Invalid data found when processing input\)/,
      async (d) => {
        await writeFile(d.path("notes.txt"), "ملاحظات الاجتماع: هذا ليس ملفا صوتيا\n");
        return d.path("notes.txt");
      },
    ],
    [
      "a zero-length file",
      "empty",
      /the file is empty \(0 bytes\)/,
      async (d) => {
        await writeFile(d.path("empty.wav"), "");
        return d.path("empty.wav");
      },
    ],
    [
      "a truncated FLAC file",
      "truncated",
      /the file ends before its audio does/,
      async (d) => {
        await ffmpeg("-i", d.path("call.wav"), "-c:a", "flac", d.path("call.flac"));
        return truncated(d.path("call.flac"), d.path("half.flac"));
      },
    ],
    [
      "an MP4 whose index was never written (upload cut off)",
      "truncated",
      /moov atom not found/,
      async (d) => {
        await ffmpeg("-i", d.path("call.wav"), "-c:a", "aac", d.path("call.m4a"));
        return truncated(d.path("call.m4a"), d.path("half.m4a"));
      },
    ],
    [
      "a video without audio",
      "no_audio",
      /no audio stream \(only video\)/,
      async (d) => {
        await ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", "-c:v", "mpeg4", d.path("silent.mp4"));
        return d.path("silent.mp4");
      },
    ],
  ])("refuses %s with the reason", async (_, reason, message, make) => {
    const file = await make(dir);
    const err = await refusal(file);
    expect(err.reason).toBe(reason);
    expect(err.field).toBe("media");
    expect(err.message).toMatch(message);
    // The server's path stays out of what the uploader is told.
    expect(err.message).not.toContain(dir.dir);
  });
});
