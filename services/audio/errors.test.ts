// Every bad input ends in an AudioFormatError (INVALID_ARGUMENT) that names the proto field at fault.

import { describe, expect, test } from "vitest";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { AudioFormatError, createStreamDecoder, decodeAudio, type AudioField, type AudioFormat } from "./index.js";
import { makeTones } from "./test-audio.js";

async function failure(work: () => unknown): Promise<AudioFormatError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(AudioFormatError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as AudioFormatError).kind).toBe("invalid_argument");
    return error as AudioFormatError;
  }
  throw new Error("expected an AudioFormatError");
}

async function expectField(field: AudioField, work: () => unknown, message?: RegExp): Promise<void> {
  const error = await failure(work);
  expect(error.field).toBe(field);
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  if (message) expect(error.message).toMatch(message);
}

/** Decodes in two pushes, so a problem is found on the streaming path too. */
async function stream(format: AudioFormat, bytes: Uint8Array, options?: { maxChunkBytes?: number }): Promise<void> {
  const decoder = createStreamDecoder(format, options);
  try {
    const half = Math.floor(bytes.length / 2);
    await decoder.push(bytes.subarray(0, half));
    await decoder.push(bytes.subarray(half));
    await decoder.end();
  } finally {
    decoder.close();
  }
}

const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
const pcm8k: AudioFormat = { encoding: "LINEAR16", sampleRateHertz: 8000, channels: 1 };

describe("the config", () => {
  test.each(["MP3", "", "AUTO", "linear16"])("encoding %j → config.encoding", async (encoding) => {
    await expectField("config.encoding", () => createStreamDecoder({ ...pcm8k, encoding: encoding as "LINEAR16" }), /unsupported encoding/);
  });

  test.each([
    ["LINEAR16", 0],
    ["MULAW", 7999],
    ["ALAW", 48001],
    ["LINEAR16", 96000],
    ["LINEAR16", 16000.5],
    ["FLAC", -1],
    ["OGG_OPUS", 4000],
  ] as const)("%s at %d Hz → config.sample_rate_hz", async (encoding, sampleRateHertz) => {
    await expectField("config.sample_rate_hz", () => createStreamDecoder({ encoding, sampleRateHertz, channels: 1 }));
  });

  test.each([9, -1, 1.5, 255])("%d channels → config.audio_channel_count", async (channels) => {
    await expectField("config.audio_channel_count", () => createStreamDecoder({ ...pcm8k, channels }));
  });

  test("decodeAudio validates the config too", async () => {
    await expectField("config.encoding", () => decodeAudio({ ...pcm8k, encoding: "WAV" as "LINEAR16" }, new Uint8Array(2)));
  });
});

describe("raw audio", () => {
  test("an odd byte count of 16-bit audio → audio_content, only at the end (a split sample is carried over)", async () => {
    const decoder = createStreamDecoder({ ...pcm8k, sampleRateHertz: 16000 }); // 16 kHz: no resampler delay
    expect((await decoder.push(new Uint8Array(3)))[0]).toHaveLength(1);
    expect((await decoder.push(new Uint8Array(1)))[0]).toHaveLength(1); // completes the second sample
    await decoder.push(new Uint8Array(3));
    await expectField("audio_content", () => decoder.end(), /odd number of bytes/);
    decoder.close();
  });

  test("stereo 16-bit ending inside a frame → audio_content", async () => {
    await expectField("audio_content", () => decodeAudio({ ...pcm8k, channels: 2 }, new Uint8Array(10)), /multiple of 2 channels/);
  });

  test("stereo μ-law ending inside a frame → audio_content", async () => {
    await expectField("audio_content", () => decodeAudio({ encoding: "MULAW", sampleRateHertz: 8000, channels: 2 }, new Uint8Array(161)));
  });

  test("a chunk over the size limit → audio_content; the default limit is 1 MiB", async () => {
    await expectField("audio_content", () => stream(pcm8k, new Uint8Array(2000), { maxChunkBytes: 999 }), /over the limit of 999/);
    await expectField("audio_content", () => createStreamDecoder(pcm8k).push(new Uint8Array(1024 * 1024 + 2)), /over the limit/);
    await expect(createStreamDecoder(pcm8k).push(new Uint8Array(1024 * 1024))).resolves.toHaveLength(1);
  });

  test("a WAV header that disagrees with the config names the config field", async () => {
    const wav = (rate: number, channels: number, bits = 16) => {
      const header = new DataView(new ArrayBuffer(44));
      const text = (at: number, s: string) => [...s].forEach((ch, i) => header.setUint8(at + i, ch.charCodeAt(0)));
      text(0, "RIFF");
      header.setUint32(4, 36, true);
      text(8, "WAVE");
      text(12, "fmt ");
      header.setUint32(16, 16, true);
      header.setUint16(20, 1, true);
      header.setUint16(22, channels, true);
      header.setUint32(24, rate, true);
      header.setUint16(34, bits, true);
      text(36, "data");
      return new Uint8Array(header.buffer);
    };
    await expect(decodeAudio(pcm8k, wav(8000, 1))).resolves.toEqual([new Float32Array(0)]);
    await expectField("config.sample_rate_hz", () => decodeAudio(pcm8k, wav(16000, 1)), /WAV header's 16000 Hz/);
    await expectField("config.audio_channel_count", () => decodeAudio(pcm8k, wav(8000, 2)));
    await expectField("audio_content", () => decodeAudio(pcm8k, wav(8000, 1, 24)), /24-bit/);
    await expectField("audio_content", () => decodeAudio(pcm8k, wav(8000, 1).subarray(0, 30)), /inside its WAV header/);
  });
});

describe.each(["FLAC", "OGG_OPUS"] as const)("%s", (encoding) => {
  const fromHeader: AudioFormat = { encoding, sampleRateHertz: 0, channels: 0 };
  const other = encoding === "FLAC" ? "OGG_OPUS" : "FLAC";

  test("garbage → audio_content, from the first bytes", async () => {
    await expectField("audio_content", () => decodeAudio(fromHeader, garbage), /does not start with/);
    await expectField("audio_content", () => createStreamDecoder(fromHeader).push(garbage.subarray(0, 2)));
  });

  test(`raw PCM and ${other} declared as ${encoding} → audio_content`, async () => {
    await expectField("audio_content", () => stream(fromHeader, makeTones({ encoding: "LINEAR16", rate: 8000, tones: [440], seconds: 0.1 })));
    await expectField("audio_content", () => stream(fromHeader, makeTones({ encoding: other, rate: 8000, tones: [440], seconds: 0.1 })));
  });

  test("a valid header followed by garbage → audio_content", async () => {
    const valid = makeTones({ encoding, rate: 16000, tones: [440], seconds: 0.2 });
    const headerLength = encoding === "FLAC" ? 42 : 27 + valid[26]! + 19;
    const forged = new Uint8Array(headerLength + garbage.length);
    forged.set(valid.subarray(0, headerLength));
    forged.set(garbage, headerLength);
    await expectField("audio_content", () => stream(fromHeader, forged));
  });

  test("a stream cut inside its header → audio_content", async () => {
    const valid = makeTones({ encoding, rate: 16000, tones: [440], seconds: 0.2 });
    await expectField("audio_content", () => stream(fromHeader, valid.subarray(0, 20)), /ended inside its/);
  });

  test("a declared rate or channel count that contradicts the header names that field", async () => {
    const mono16k = makeTones({ encoding, rate: 16000, tones: [440], seconds: 0.2 });
    await expectField("config.sample_rate_hz", () => stream({ encoding, sampleRateHertz: 8000, channels: 0 }, mono16k), /does not match/);
    await expectField("config.audio_channel_count", () => stream({ encoding, sampleRateHertz: 0, channels: 2 }, mono16k), /does not match/);
    await expect(decodeAudio({ encoding, sampleRateHertz: 16000, channels: 1 }, mono16k)).resolves.toHaveLength(1);
  });
});

test("Ogg/Opus may declare its capture rate or Opus's 48 kHz", async () => {
  const opus = makeTones({ encoding: "OGG_OPUS", rate: 16000, tones: [440], seconds: 0.2 });
  await expect(decodeAudio({ encoding: "OGG_OPUS", sampleRateHertz: 48000, channels: 1 }, opus)).resolves.toHaveLength(1);
});

test("after a failure every later call fails the same way; after close, calls are refused", async () => {
  const decoder = createStreamDecoder({ encoding: "FLAC", sampleRateHertz: 0, channels: 0 });
  const first = await failure(() => decoder.push(garbage));
  await expect(decoder.push(new Uint8Array(4))).rejects.toBe(first);
  await expect(decoder.end()).rejects.toBe(first);
  decoder.close();
  await expect(decoder.push(new Uint8Array(4))).rejects.toThrow(/after close/);
});

test("the same for a raw encoding, which decodes without waiting: a failure sticks, close refuses", async () => {
  const decoder = createStreamDecoder({ encoding: "MULAW", sampleRateHertz: 8000, channels: 2 }, { maxChunkBytes: 320 });
  await expect(decoder.push(new Uint8Array(320))).resolves.toHaveLength(2);
  const first = await failure(() => decoder.push(new Uint8Array(321)));
  expect(first).toBeInstanceOf(AudioFormatError);
  await expect(decoder.push(new Uint8Array(4))).rejects.toBe(first);
  await expect(decoder.end()).rejects.toBe(first);
  decoder.close();
  await expect(decoder.push(new Uint8Array(4))).rejects.toThrow(/after close/);
});

test("a raw push made while end() is still queued is refused, not decoded out of order", async () => {
  const decoder = createStreamDecoder({ encoding: "LINEAR16", sampleRateHertz: 8000, channels: 1 });
  const ending = decoder.end();
  await expect(decoder.push(new Uint8Array(2))).rejects.toThrow(/after end/);
  await expect(ending).resolves.toHaveLength(1);
});
