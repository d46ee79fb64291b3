// What `arabicstt live` sends: the format read from WAV headers sox writes (PCM, μ-law, A-law, stereo, a
// header split across reads, a pipe's unknown data size), FLAC and Ogg passed through whole, headerless input
// refused unless described, and the audio cut into whole frames with nothing lost or added.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { createAudioDir, sox, type AudioDir } from "../../inference/local/testing/audio.js";
import { ffmpeg } from "../../services/audio/ffmpeg-testing.js";
import { openAudio, pace, type LiveAudio } from "./audio-source.js";
import { UsageError } from "./errors.js";

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

/** The samples sox decodes from a file, as raw bytes in the file's own encoding (the WAV's data chunk). */
async function dataOf(dir: AudioDir, file: string, encoding: string, bits: string): Promise<Buffer> {
  await sox("-D", dir.path(file), "-t", "raw", "-e", encoding, "-b", bits, dir.path(`${file}.raw`));
  return readFile(dir.path(`${file}.raw`));
}

describe("live audio from files and pipes", () => {
  let dir: AudioDir;
  const never = new AbortController().signal;

  beforeAll(async () => {
    dir = await createAudioDir("arabicstt-cli-source-");
    await sox("-D", "-n", "-r", "16000", "-c", "1", "-b", "16", dir.path("pcm.wav"), "synth", "0.5", "sine", "440", "vol", "0.5");
    await sox("-D", "-n", "-r", "8000", "-c", "2", "-e", "u-law", "-b", "8", dir.path("ulaw.wav"), "synth", "0.5", "sine", "440", "sine", "880");
    await sox("-D", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-b", "8", dir.path("alaw.wav"), "synth", "0.5", "sine", "440");
    await sox("-D", "-n", "-r", "16000", "-c", "1", "-b", "24", dir.path("24bit.wav"), "synth", "0.2", "sine", "440");
    await ffmpeg("-i", dir.path("pcm.wav"), "-c:a", "libopus", dir.path("speech.ogg"));
  });

  afterAll(async () => {
    await dir?.remove();
  });

  it.each([
    ["pcm.wav", AudioEncoding.LINEAR16, 16000, 1, 2, "signed-integer", "16"],
    ["ulaw.wav", AudioEncoding.MULAW, 8000, 2, 2, "u-law", "8"],
    ["alaw.wav", AudioEncoding.ALAW, 8000, 1, 1, "a-law", "8"],
  ])("reads %s's header and sends its samples, header split over reads", async (file, encoding, rate, channels, frameBytes, soxEncoding, bits) => {
    const bytes = await readFile(dir.path(file));
    const audio = await openAudio(pieces(bytes, 7));
    expect({ encoding: audio.encoding, sampleRateHz: audio.sampleRateHz, channels: audio.channels, frameBytes: audio.frameBytes }).toEqual({ encoding, sampleRateHz: rate, channels, frameBytes });
    const { bytes: sent, sizes } = await collect(pace(audio, false, never));
    expect(sent.equals(await dataOf(dir, file, soxEncoding, bits))).toBe(true);
    expect(sizes.every((size) => size % frameBytes === 0)).toBe(true);
  });

  it("sends up to the end of a piped WAV whose data size is unknown", async () => {
    const bytes = Buffer.from(await readFile(dir.path("pcm.wav")));
    const dataAt = bytes.indexOf("data") + 4;
    bytes.writeUInt32LE(0xffffffff, dataAt);
    const audio = await openAudio(pieces(bytes, 1000));
    expect((await collect(audio.payload)).bytes.length).toBe(bytes.length - dataAt - 4);
  });

  it("stops at the end of the data chunk: a trailing LIST chunk is not audio", async () => {
    const bytes = await readFile(dir.path("pcm.wav"));
    const trailer = Buffer.concat([Buffer.from("LIST"), Buffer.from([4, 0, 0, 0]), Buffer.from("INFO")]);
    const audio = await openAudio(pieces(Buffer.concat([bytes, trailer]), 4096));
    expect((await collect(audio.payload)).bytes.equals(await dataOf(dir, "pcm.wav", "signed-integer", "16"))).toBe(true);
  });

  it("passes Ogg/Opus through whole for the server to read", async () => {
    const bytes = await readFile(dir.path("speech.ogg"));
    const audio = await openAudio(pieces(bytes, 3));
    expect(audio.encoding).toBe(AudioEncoding.OGG_OPUS);
    expect((await collect(pace(audio, true, never))).bytes.equals(bytes)).toBe(true);
  });

  it("refuses a WAV the server cannot take live, and headerless audio nobody described", async () => {
    await expect(openAudio(pieces(await readFile(dir.path("24bit.wav")), 4096))).rejects.toThrow(/24-bit format 1/);
    const raw = await dataOf(dir, "pcm.wav", "signed-integer", "16");
    await expect(openAudio(pieces(raw, 4096))).rejects.toBeInstanceOf(UsageError);
    const described = await openAudio(pieces(raw, 4096), { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16000, channels: 1 });
    expect(described.frameBytes).toBe(2);
    expect((await collect(described.payload)).bytes.equals(raw)).toBe(true);
  });

  it("paces raw audio in 100 ms chunks and stops sending when aborted", async () => {
    const raw = Buffer.alloc(16000 * 2 * 3);
    const audio: LiveAudio = { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16000, channels: 1, frameBytes: 2, payload: pieces(raw, 999) };
    const stop = new AbortController();
    const sizes: number[] = [];
    for await (const chunk of pace(audio, true, stop.signal)) {
      sizes.push(chunk.length);
      if (sizes.length === 3) stop.abort();
    }
    expect(sizes).toEqual([3200, 3200, 3200]);
  });
});
