// Streaming Whisper end to end: StreamingRecognize over Connect, the engine, Silero VAD and the
// real whisper.cpp runtime in the sidecar, with a tiny random-weight model (whisper-testmodel.ts):
// its words are meaningless, but the path is the production one. What is checked is what the
// engine promises whatever the words: Whisper hears only the speech (never the seconds of silence
// around it), each utterance gets speech events at its edges and one final, word times lie in
// stream time inside their utterance, and words are spaced.
import { mkdir, mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { writeRandomWhisperModel } from "../../inference/local/models/whisper-testmodel.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { audioSeconds, createAudioDir, sox, speakArabic, type AudioDir } from "../../inference/local/testing/audio.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechEventType, SpeechService, StreamingRecognizeRequestSchema, type StreamingRecognizeResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner } from "../../gateway/testing/accounts.js";

const seconds = (d: { seconds: bigint; nanos: number } | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : NaN);

describe("streaming Whisper (whisper.cpp, random weights) behind Silero VAD", () => {
  let audio: AudioDir;
  let weightsDir: string;
  let sidecar: Sidecar;
  let inference: InferenceClient;
  let platform: TestPlatform;
  let credential: string;
  const heard: number[] = [];

  beforeAll(async () => {
    audio = await createAudioDir();
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-whisper-live-"));
    await mkdir(join(weightsDir, "whisper"));
    // The smallest model with every part of whisper (see inference/local/whisper.test.ts).
    await writeRandomWhisperModel(join(weightsDir, "whisper", "ggml-test.bin"), { textCtx: 32, audioLayers: 1, textLayers: 1 });
    sidecar = await startSidecar({
      host: "127.0.0.1",
      port: 0,
      modelsDir: fileURLToPath(new URL("../../inference/models/", import.meta.url)),
      weightsDir,
      logger: pino({ level: "silent" }),
    });
    inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 60_000 });
    const spied = new Proxy(inference, {
      get: (target, key) =>
        key === "transcribe"
          ? (model: string, samples: Float32Array, options?: object) => {
              heard.push(samples.length / 16_000);
              return target.transcribe(model, samples, options);
            }
          : Reflect.get(target, key),
    });
    // The whole platform, through the root `npm start` uses, with this sidecar (and its test model) as its models.
    platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "whisper", ...UNTHROTTLED }, { adapters: { inference: spied } });
    credential = (await registerOwner(platform)).accessToken;
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    inference?.close();
    await sidecar?.close();
    await audio?.remove();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  it("recognises two utterances, sending Whisper only their speech", async () => {
    // 1.5 s silence | phrase one | 1.5 s silence | phrase two | 2 s silence
    const phrases = ["السلام عليكم ورحمة الله", "مرحبا بكم"];
    const lengths: number[] = [];
    for (const [i, phrase] of phrases.entries()) {
      await speakArabic(phrase, audio.path(`p${i}.wav`));
      await sox("-D", audio.path(`p${i}.wav`), "-r", "16000", audio.path(`p${i}-trim.wav`), "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse");
      lengths.push(await audioSeconds(audio.path(`p${i}-trim.wav`)));
    }
    await sox("-D", audio.path("p0-trim.wav"), audio.path("p0-pad.wav"), "pad", "1.5", "1.5");
    await sox("-D", audio.path("p0-pad.wav"), audio.path("p1-trim.wav"), "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", audio.path("speech.raw"), "pad", "0", "2");
    const pcm = new Uint8Array(await readFile(audio.path("speech.raw")));
    const spans = [
      [1.5, 1.5 + lengths[0]!],
      [3 + lengths[0]!, 3 + lengths[0]! + lengths[1]!],
    ] as const;

    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, {
        streamingRequest: {
          case: "streamingConfig",
          value: {
            config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "whisper", languageCode: "ar-EG", enableWordTimeOffsets: true },
            // Interim re-decodes are the engine's (tested on dtmf); here each Whisper call costs seconds of CPU.
            voiceActivityEvents: true,
          },
        },
      });
      for (let at = 0; at < pcm.length; at += 640) {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 640) } });
      }
    }
    const client = platform.client(SpeechService, { credential });
    const responses: StreamingRecognizeResponse[] = [];
    for await (const r of client.streamingRecognize(requests())) responses.push(r);

    const events = responses.flatMap((r) => (r.speechEvent && r.speechEvent.type !== SpeechEventType.UNSPECIFIED ? [r.speechEvent] : []));
    expect(events.map((e) => e.type)).toEqual([SpeechEventType.SPEECH_BEGIN, SpeechEventType.SPEECH_END, SpeechEventType.SPEECH_BEGIN, SpeechEventType.SPEECH_END]);
    events.forEach((e, k) => expect(Math.abs(seconds(e.offset) - spans[k >> 1]![k & 1]!)).toBeLessThan(0.35));

    const finals = responses.flatMap((r) => r.results.filter((x) => x.isFinal));
    expect(finals).toHaveLength(2);
    finals.forEach((final, k) => {
      const alternative = final.alternatives[0]!;
      expect(alternative.transcript).toBe(alternative.words.map((w) => w.word).join(" "));
      expect(final.languageCode).toBe("ar-EG");
      for (const w of alternative.words) {
        expect(seconds(w.startOffset)).toBeGreaterThanOrEqual(spans[k]![0] - 0.35);
        expect(seconds(w.endOffset)).toBeLessThanOrEqual(spans[k]![1] + 0.35);
      }
    });
    // Whisper never heard the 5 s of silence: each call at most its utterance with run-up and tail.
    const longest = Math.max(...lengths) + 0.8;
    expect(heard).toHaveLength(2);
    for (const s of heard) expect(s).toBeLessThan(longest);
  }, 120_000);
});
