// Live diarization through the public API: StreamingRecognize over Connect against the whole platform, with
// the real sidecar (Silero VAD, whisper.cpp with a tiny random-weight model: meaningless words, real word
// times) and no speaker_embedding weights, so the weights-free spectral prints label the speakers. One mono
// stream holds two synthetic voices taking turns (espeak-ng's Arabic voice, a male and a female variant);
// every final's words must carry the speaker of the voice that said them, S1 for the voice heard first.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../../inference/client/index.js";
import { writeRandomWhisperModel } from "../../inference/local/models/whisper-testmodel.js";
import { startSidecar, type Sidecar } from "../../inference/local/server.js";
import { createAudioDir, readAudio16k, sox, type AudioDir } from "../../inference/local/testing/audio.js";
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechService, StreamingRecognizeRequestSchema, type StreamingRecognizeResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner } from "../../gateway/testing/accounts.js";

const execFileAsync = promisify(execFile);
const seconds = (d: { seconds: bigint; nanos: number } | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : NaN);

describe("live diarization of one mono stream (spectral prints, no speaker model)", () => {
  let audio: AudioDir;
  let weightsDir: string;
  let sidecar: Sidecar;
  let inference: InferenceClient;
  let platform: TestPlatform;
  let credential: string;
  // Turns of two voices, 1.2 s apart (past the engine's 800 ms endpoint: one final each).
  const lines = ["السلام عليكم كيف حالك اليوم يا صديقي", "أهلا وسهلا أنا بخير والحمد لله", "أريد أن أسأل عن فاتورة الشهر الماضي", "تفضل ما هو رقم الحساب من فضلك"];
  const voices = ["ar+m1", "ar+f4"];
  const turns: Array<{ voice: string; start: number; end: number }> = [];
  let pcm: Uint8Array;

  beforeAll(async () => {
    audio = await createAudioDir("diarization-live-");
    weightsDir = await mkdtemp(join(tmpdir(), "arabicstt-diarization-live-"));
    await mkdir(join(weightsDir, "whisper"));
    await writeRandomWhisperModel(join(weightsDir, "whisper", "ggml-test.bin"), { textCtx: 32, audioLayers: 1, textLayers: 1 });
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: fileURLToPath(new URL("../../inference/models/", import.meta.url)), weightsDir, logger: pino({ level: "silent" }) });
    inference = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 60_000 });
    // Recognize decodes with the random-weight model, slow on a loaded 2-core box: this test is not about the unary deadline.
    platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "whisper", UNARY_DEADLINE_MS: "110000", ...UNTHROTTLED }, { adapters: { inference } });
    credential = (await registerOwner(platform)).accessToken;

    const parts: Float32Array[] = [];
    let at = 1;
    for (const [i, line] of lines.entries()) {
      const voice = voices[i % 2]!;
      await execFileAsync("espeak-ng", ["-v", voice, "-w", audio.path(`${i}.wav`), line]);
      await sox("-D", audio.path(`${i}.wav`), "-r", "16000", audio.path(`${i}-trim.wav`), "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse");
      const samples = await readAudio16k(audio.path(`${i}-trim.wav`));
      parts.push(samples);
      turns.push({ voice, start: at, end: at + samples.length / 16_000 });
      at += samples.length / 16_000 + 1.2;
    }
    const stream = new Float32Array(Math.ceil((at + 1) * 16_000));
    parts.forEach((p, i) => stream.set(p, Math.round(turns[i]!.start * 16_000)));
    const bytes = new Uint8Array(stream.length * 2);
    const view = new DataView(bytes.buffer);
    stream.forEach((x, i) => view.setInt16(2 * i, Math.round(Math.max(-1, Math.min(1, x)) * 32767), true));
    pcm = bytes;
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    inference?.close();
    await sidecar?.close();
    await audio?.remove();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  it("labels two espeak-ng voices in one mono stream as two speakers, in the order they speak", async () => {
    // Two speakers at most, as for a phone call (recognition.proto advises giving the count when it is known).
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, {
        streamingRequest: {
          case: "streamingConfig",
          value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "whisper", languageCode: "ar", diarizationConfig: { enableSpeakerDiarization: true, maxSpeakerCount: 2 } } },
        },
      });
      for (let at = 0; at < pcm.length; at += 3200) {
        yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, at + 3200) } });
      }
    }
    const client = platform.client(SpeechService, { credential });
    const responses: StreamingRecognizeResponse[] = [];
    for await (const r of client.streamingRecognize(requests())) responses.push(r);

    const finals = responses.flatMap((r) => r.results.filter((x) => x.isFinal));
    expect(finals).toHaveLength(lines.length);
    const labels = finals.map((final, k) => {
      const words = final.alternatives[0]!.words;
      // Words are sent for the labels alone: no times or confidences were asked for.
      expect(words.length).toBeGreaterThan(0);
      expect(words.every((w) => w.startOffset === undefined && w.confidence === 0)).toBe(true);
      // Each final is one voice's turn, and ends after it.
      expect(seconds(final.resultEndOffset)).toBeGreaterThan(turns[k]!.end - 0.3);
      return [...new Set(words.map((w) => w.speakerLabel))];
    });
    console.log(`speaker labels of the finals: ${JSON.stringify(labels)} (voices ${turns.map((t) => t.voice).join(", ")})`);
    expect(labels).toEqual([["S1"], ["S2"], ["S1"], ["S2"]]);
  }, 180_000);

  it("labels Recognize's words the same way", async () => {
    // The first two turns, as one request.
    const end = Math.round((turns[1]!.end + 1.2) * 16_000) * 2;
    const response = await platform.client(SpeechService, { credential }).recognize({
      config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "whisper", languageCode: "ar", diarizationConfig: { enableSpeakerDiarization: true, maxSpeakerCount: 2 } },
      audioSource: { case: "content", value: pcm.subarray(0, end) },
    });
    expect(response.results.map((r) => [...new Set(r.alternatives[0]!.words.map((w) => w.speakerLabel))])).toEqual([["S1"], ["S2"]]);
  }, 120_000);

  it("sends no speaker labels when diarization is not asked for", async () => {
    async function* requests() {
      yield create(StreamingRecognizeRequestSchema, {
        streamingRequest: { case: "streamingConfig", value: { config: { encoding: AudioEncoding.LINEAR16, sampleRateHz: 16_000, model: "whisper", languageCode: "ar", enableWordTimeOffsets: true } } },
      });
      // The first turn.
      const end = Math.round((turns[0]!.end + 1.2) * 16_000) * 2;
      for (let at = 0; at < end; at += 3200) yield create(StreamingRecognizeRequestSchema, { streamingRequest: { case: "audioContent", value: pcm.subarray(at, Math.min(end, at + 3200)) } });
    }
    const responses: StreamingRecognizeResponse[] = [];
    for await (const r of platform.client(SpeechService, { credential }).streamingRecognize(requests())) responses.push(r);
    const words = responses.flatMap((r) => r.results.filter((x) => x.isFinal).flatMap((x) => x.alternatives[0]!.words));
    expect(words.length).toBeGreaterThan(0);
    expect(new Set(words.map((w) => w.speakerLabel))).toEqual(new Set([""]));
  }, 120_000);
});
