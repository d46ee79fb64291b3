// The `speaker_embedding` model end to end: a real sidecar over gRPC, the platform's client, and a
// real ONNX model on onnxruntime. No ECAPA weights can be downloaded here, so the model is a toy
// x-vector generated at test time (testing/onnx-model.ts): its weights are random, but the file,
// the runtime, the filterbank features and the pooling are real, which is enough to show that
// the sidecar loads an export, feeds it the right tensor and returns what it computes. The voices
// are espeak-ng's, resampled by sox to the 16 kHz mono float samples every model takes.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient } from "../client/index.js";
import { InferenceInvalidArgumentError, InferenceUnavailableError } from "../client/errors.js";
import { dtmfSequence } from "../client/testing/signals.js";
import { startSidecar, type Sidecar } from "./server.js";
import { writeSpeakerEmbeddingOnnx, type SpeakerEmbeddingModelOptions } from "./testing/onnx-model.js";

const run = promisify(execFile);
const logger = pino({ level: "silent" });
const MODEL_FILE = join("speaker_embedding", "model.onnx");

let scratch: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "speaker-embedding-"));
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** `text` spoken by espeak-ng with `voice` options, as 16 kHz mono FP32 samples. */
async function speak(text: string, voice: string[]): Promise<Float32Array> {
  const wav = join(await mkdtemp(join(scratch, "voice-")), "speech.wav");
  await run("espeak-ng", [...voice, "-w", wav, text]);
  const { stdout } = await run("sox", [wav, "-t", "raw", "-r", "16000", "-c", "1", "-e", "floating-point", "-b", "32", "-"], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength));
}

interface Started {
  sidecar: Sidecar;
  client: InferenceClient;
  weightsDir: string;
}

/** A sidecar over `modelsDir` whose weights directory holds what `install` puts there, and a client of it. */
async function startWith(install: (weightsDir: string) => Promise<void>, modelsDir = "inference/models"): Promise<Started> {
  const weightsDir = await mkdtemp(join(scratch, "weights-"));
  await install(weightsDir);
  const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger });
  // One attempt: a refusal here is the answer under test, not a blip to retry.
  const client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], retry: { maxAttempts: 1 } });
  cleanups.push(async () => {
    client.close();
    await sidecar.close();
  });
  return { sidecar, client, weightsDir };
}

const generated = (options: SpeakerEmbeddingModelOptions = {}) => (weightsDir: string) => writeSpeakerEmbeddingOnnx(join(weightsDir, MODEL_FILE), options);

async function stateOf(client: InferenceClient): Promise<{ state: string; reason: string }> {
  const entry = (await client.repositoryIndex()).find((m) => m.name === "speaker_embedding");
  if (!entry) throw new Error("speaker_embedding is not in the repository index");
  return entry;
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    aa += (a[i] as number) ** 2;
    bb += (b[i] as number) ** 2;
  }
  return 1 - dot / Math.sqrt(aa * bb);
}

const GREETING = "مرحبا بكم في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟";
const COMPLAINT = "أريد أن أسأل عن فاتورة الشهر الماضي لأنها أعلى من المعتاد.";
const MALE = ["-v", "ar"];
const FEMALE = ["-v", "ar+f3", "-p", "70"];

describe("speaker_embedding with an fbank-input export", () => {
  let client: InferenceClient;
  const voices = {} as Record<"maleGreeting" | "maleComplaint" | "femaleGreeting" | "femaleComplaint", Float32Array>;

  beforeAll(async () => {
    ({ client } = await startWith(generated({ input: "fbank", seed: 7 })));
    [voices.maleGreeting, voices.maleComplaint, voices.femaleGreeting, voices.femaleComplaint] = await Promise.all([
      speak(GREETING, MALE),
      speak(COMPLAINT, MALE),
      speak(GREETING, FEMALE),
      speak(COMPLAINT, FEMALE),
    ]);
  });

  it("is READY once the export is in the weights directory", async () => {
    expect(await client.modelReady("speaker_embedding")).toBe(true);
    expect(await stateOf(client)).toMatchObject({ state: "READY", reason: "" });
  });

  it("embeds a segment as 192 finite floats, the same ones every time", async () => {
    const first = await client.embed(voices.maleGreeting);
    expect(first).toBeInstanceOf(Float32Array);
    expect(first).toHaveLength(192);
    expect(first.every(Number.isFinite)).toBe(true);
    expect(first.some((v) => v !== 0)).toBe(true);
    expect(await client.embed(voices.maleGreeting)).toEqual(first);
  });

  it("puts two sentences of one voice closer together than the same sentence in two voices", async () => {
    const [maleGreeting, maleComplaint, femaleGreeting, femaleComplaint] = await Promise.all(
      [voices.maleGreeting, voices.maleComplaint, voices.femaleGreeting, voices.femaleComplaint].map((clip) => client.embed(clip)),
    ) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const sameVoice = Math.max(cosineDistance(maleGreeting, maleComplaint), cosineDistance(femaleGreeting, femaleComplaint));
    const otherVoice = Math.min(cosineDistance(maleGreeting, femaleGreeting), cosineDistance(maleComplaint, femaleComplaint));
    // Random weights put the voices 5 to 10 times further apart than the sentences; 3 leaves room
    // for other seeds and espeak-ng builds.
    expect(otherVoice).toBeGreaterThan(3 * sameVoice);
  });

  it("embeds a batch of segments as it embeds each on its own", async () => {
    const length = 3 * 16000;
    const segments = [voices.maleGreeting, voices.femaleGreeting, voices.maleComplaint].map((clip) => clip.slice(0, length));
    const batch = new Float32Array(segments.length * length);
    segments.forEach((segment, i) => batch.set(segment, i * length));
    const result = await client.infer({
      model: "speaker_embedding",
      inputs: [{ name: "AUDIO", datatype: "FP32", shape: [segments.length, length], data: batch }],
    });
    const embeddings = result.outputs.get("EMBEDDING");
    expect(embeddings?.shape).toEqual([3, 192]);
    const rows = embeddings?.data as Float32Array;
    for (const [i, segment] of segments.entries()) {
      const alone = await client.embed(segment);
      const row = rows.subarray(i * 192, (i + 1) * 192);
      // Equal up to float rounding: onnxruntime's GEMM blocks three rows differently from one,
      // so sums add up in another order (differences of a few 1e-6 on values near 1).
      const largest = Math.max(...alone.map(Math.abs));
      expect(Math.max(...row.map((v, k) => Math.abs(v - (alone[k] as number))))).toBeLessThan(1e-4 * largest);
    }
  });

  it("refuses a segment shorter than min_samples with INVALID_ARGUMENT naming AUDIO", async () => {
    const refusal = await client.embed(new Float32Array(200)).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(InferenceInvalidArgumentError);
    expect(refusal).toMatchObject({ field: "AUDIO", message: expect.stringMatching(/200 samples is too short.*8000/) });
    // The minimum itself is enough.
    expect(await client.embed(voices.maleGreeting.slice(0, 8000))).toHaveLength(192);
  });
});

describe("speaker_embedding with a waveform-input export", () => {
  it("feeds the samples themselves and returns the model's embedding", async () => {
    const { client } = await startWith(generated({ input: "waveform", seed: 7 }));
    expect(await stateOf(client)).toMatchObject({ state: "READY" });
    const clip = await speak(GREETING, MALE);
    const embedding = await client.embed(clip);
    expect(embedding).toHaveLength(192);
    expect(embedding.every(Number.isFinite)).toBe(true);
    expect(await client.embed(clip)).toEqual(embedding);
    expect(cosineDistance(embedding, await client.embed(await speak(GREETING, FEMALE)))).toBeGreaterThan(0);
  });
});

describe("speaker_embedding when it cannot run", () => {
  it("is not ready without an export, and says where to put one", async () => {
    const { client, weightsDir } = await startWith(async () => {});
    const { state, reason } = await stateOf(client);
    expect(state).toBe("UNAVAILABLE");
    expect(reason).toContain(join(weightsDir, MODEL_FILE));
    expect(reason).toContain("MODEL_WEIGHTS_DIR");
    await expect(client.embed(new Float32Array(16000))).rejects.toBeInstanceOf(InferenceUnavailableError);
  });

  it("is not ready with a corrupt model.onnx, while the sidecar keeps serving other models", async () => {
    const { client, weightsDir } = await startWith(async (dir) => {
      await mkdir(join(dir, "speaker_embedding"));
      await writeFile(join(dir, MODEL_FILE), Buffer.from("this is not a protobuf, just the first bytes of an interrupted download"));
    });
    const { state, reason } = await stateOf(client);
    expect(state).toBe("UNAVAILABLE");
    expect(reason).toContain(`cannot load the speaker embedding model at ${join(weightsDir, MODEL_FILE)}: `);
    await expect(client.embed(new Float32Array(16000))).rejects.toThrow(/speaker_embedding.*not ready.*cannot load/);
    expect(await client.serverReady()).toBe(true);
    const dialled = await client.transcribe("dtmf", dtmfSequence("1590#").audio);
    expect(dialled.text.replace(/\s/g, "")).toBe("1590#");
  });

  it("is not ready with an export whose features do not match the config's mel bins", async () => {
    const { client } = await startWith(generated({ melBins: 40 }));
    expect(await stateOf(client)).toMatchObject({ state: "UNAVAILABLE", reason: expect.stringContaining("takes 40 mel bins, the config says 80") });
  });

  it("is not ready with an export whose embedding is not the config's 192 values", async () => {
    const { client } = await startWith(generated({ embeddingSize: 256 }));
    expect(await stateOf(client)).toMatchObject({ state: "UNAVAILABLE", reason: expect.stringContaining("embeddings of 256 values, the config's EMBEDDING has 192") });
  });

  it("refuses a segment too short for one filterbank frame when min_samples allows it", async () => {
    const modelsDir = await mkdtemp(join(scratch, "repository-"));
    await mkdir(join(modelsDir, "speaker_embedding"));
    const config = await readFile("inference/models/speaker_embedding/config.pbtxt", "utf8");
    const lowered = config.replace(/(key: "min_samples"\s*value: \{ string_value: )"8000"/, '$1"1"');
    expect(lowered).not.toBe(config);
    await writeFile(join(modelsDir, "speaker_embedding", "config.pbtxt"), lowered);
    const { client } = await startWith(generated(), modelsDir);
    const refusal = await client.embed(new Float32Array(399)).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(InferenceInvalidArgumentError);
    expect(refusal).toMatchObject({ field: "AUDIO", message: expect.stringContaining("399 samples is shorter than one 25 ms filterbank frame") });
    expect(await client.embed(new Float32Array(400).fill(0.01))).toHaveLength(192);
  });
});
