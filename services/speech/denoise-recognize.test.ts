// Recognize with config.denoise: DENOISE_MODE_SPECTRAL runs the batch pipeline's FFT denoiser (afftdn, the one
// filter chain in services/audio/filters.ts) over the request's audio before recognition, whatever its encoding
// (a WAV file, raw μ-law); DENOISE_MODE_NEURAL needs an RNNoise model (RNNOISE_MODEL) and is refused naming the
// field without one, as CreateJob refuses it. The whole platform runs as shipped with its local sidecar; the
// model is `dtmf`, whose words are exactly the keys sox dialled, here under loud white noise that sox mixed in.
import { readFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { AudioEncoding, DenoiseMode } from "../../proto/gen/arabicstt/v1/recognition_pb.js";

const KEYS = "50924";
// Loud enough (it clips) that the keypad model, without the denoiser, hears a key twice in this seeded noise.
const NOISE = "1.3";

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!outcome) throw new Error("the call succeeded");
  return outcome;
}

describe("Recognize with denoise", () => {
  let h: TestPlatform;
  let owner: TestAccount;
  let audio: AudioDir;
  let noisyWav: Uint8Array;
  let noisyMulaw: Uint8Array;

  beforeAll(async () => {
    h = await startTestPlatform({ ...UNTHROTTLED });
    owner = await registerOwner(h);
    audio = await createAudioDir("arabicstt-denoise-recognize-");
    await soxDtmf(KEYS, audio.path("keys.wav"), { leadMs: 300 });
    // Steady white noise over the whole call (a fixed seed, so every run hears the same noise), then the two mixed.
    await sox("-R", "-n", "-r", "8000", "-c", "1", "-b", "16", audio.path("noise.wav"), "synth", "1.6", "whitenoise", "vol", NOISE);
    await sox("-m", audio.path("keys.wav"), audio.path("noise.wav"), audio.path("noisy.wav"));
    await sox(audio.path("noisy.wav"), "-t", "raw", "-e", "u-law", "-b", "8", audio.path("noisy.ulaw"));
    noisyWav = new Uint8Array(await readFile(audio.path("noisy.wav")));
    noisyMulaw = new Uint8Array(await readFile(audio.path("noisy.ulaw")));
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await audio?.remove();
  });

  const recognize = (config: Record<string, unknown>, content: Uint8Array) =>
    h.client(SpeechService, { credential: owner.accessToken }).recognize({ config: { model: "dtmf", ...config }, audioSource: { case: "content", value: content } });
  const transcripts = (response: Awaited<ReturnType<typeof recognize>>) => response.results.map((r) => r.alternatives[0]!.transcript).join(" ");

  it("recognises the keys under noise with DENOISE_MODE_SPECTRAL, from a WAV file and from raw μ-law", async () => {
    // The noise misleads the model as sent (DENOISE_MODE_OFF), so the right keys below are the denoiser's doing.
    expect(transcripts(await recognize({ denoise: DenoiseMode.OFF }, noisyWav)), "the noise should mislead the model without denoising").not.toBe(KEYS);
    expect(transcripts(await recognize({ denoise: DenoiseMode.SPECTRAL }, noisyWav))).toBe(KEYS);
    const mulaw = await recognize({ denoise: DenoiseMode.SPECTRAL, encoding: AudioEncoding.MULAW, sampleRateHz: 8000 }, noisyMulaw);
    expect(transcripts(mulaw)).toBe(KEYS);
    // The denoised audio is the request's, resampled: its length and bill are the call's own.
    const seconds = Number(mulaw.metadata!.audioDuration!.seconds) + mulaw.metadata!.audioDuration!.nanos / 1e9;
    expect(seconds).toBeCloseTo(noisyMulaw.length / 8000, 1);
  });

  it("refuses DENOISE_MODE_NEURAL naming the field when no RNNoise model is configured", async () => {
    const err = await failure(recognize({ denoise: DenoiseMode.NEURAL }, noisyWav));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^config\.denoise: DENOISE_MODE_NEURAL needs an RNNoise model/);
  });
});
