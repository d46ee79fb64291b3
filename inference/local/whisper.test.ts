// The sidecar's `whisper` model end to end on the real runtime: whisper.cpp in its child process,
// fed a tiny random-weight model written at test time (whisper-testmodel.ts), reached by the real
// client over gRPC. The text is gibberish, so these tests hold everything but the words: the
// model file is found and loaded, segments and words are timed inside the clip and in order,
// batched rows and parallel requests each get their own answer, a crash of whisper.cpp costs one
// request and not the sidecar, and a corrupt model file is a clear not-ready reason.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInferenceClient, type InferenceClient, type Transcription } from "../client/index.js";
import { InferenceUnavailableError } from "../client/errors.js";
import { transcription, type InferResult } from "../client/models.js";
import { stringElements, type Tensor } from "../client/tensors.js";
import { dtmfSequence } from "../client/testing/signals.js";
import { writeRandomWhisperModel } from "./models/whisper-testmodel.js";
import { startSidecar, type Sidecar } from "./server.js";
import { createAudioDir, readAudio16k, sox, speakArabic, type AudioDir } from "./testing/audio.js";

const logger = pino({ level: "silent" });
const modelsDir = fileURLToPath(new URL("../models/", import.meta.url));

// The smallest model that still has every part of whisper: one encoder and one decoder layer, and
// a 32-token decoder context, which bounds a window's tokens (n_text_ctx / 2 - 4) and so the
// decode time of random weights that never choose end-of-text on their own.
const TEST_MODEL = { textCtx: 32, audioLayers: 1, textLayers: 1 } as const;

/** Arabic phrases, each spoken by espeak-ng and cut or padded to CLIP_SECONDS. */
const PHRASES = ["السلام عليكم", "مرحبا بكم", "شكرا جزيلا"];
const CLIP_SECONDS = 1.5;

/** Weights directory with one whisper model file in it. */
async function weightsWith(file: (path: string) => Promise<unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "arabicstt-whisper-"));
  await mkdir(join(dir, "whisper"));
  await file(join(dir, "whisper", "ggml-test.bin"));
  return dir;
}

/** The clip as whisper answered it: segments and words in order, inside the clip and their segment. */
function expectWellFormed(result: Transcription, clipSeconds: number): void {
  expect(result.duration).toBeCloseTo(clipSeconds, 3);
  expect(result.language).toBe("ar");
  expect(result.segments.length).toBeGreaterThan(0);
  expect(result.text).toBe(result.segments.map((s) => s.text).join(" "));
  let previousEnd = 0;
  for (const segment of result.segments) {
    expect(segment.text.trim()).not.toBe("");
    expect(segment.start).toBeGreaterThanOrEqual(previousEnd);
    expect(segment.end).toBeGreaterThanOrEqual(segment.start);
    expect(segment.end).toBeLessThanOrEqual(clipSeconds + 0.001);
    expect(segment.avgLogprob).toBeLessThanOrEqual(0);
    expect(segment.words.length).toBeGreaterThan(0);
    // Words split the segment's text where whisper's tokens start with a space.
    expect(segment.words.map((w) => w.word).join(" ")).toBe(segment.text);
    let wordEnd = segment.start;
    for (const word of segment.words) {
      expect(word.start).toBeGreaterThanOrEqual(wordEnd);
      expect(word.end).toBeGreaterThanOrEqual(word.start);
      expect(word.end).toBeLessThanOrEqual(segment.end);
      expect(word.probability).toBeGreaterThanOrEqual(0);
      expect(word.probability).toBeLessThanOrEqual(1);
      wordEnd = word.end;
    }
    previousEnd = segment.end;
  }
}

/** CPU time (clock ticks) a process has used, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of proc(5), counted from the state field (3).
  return Number(fields[11]) + Number(fields[12]);
}

/** The whisper.cpp host process the in-process sidecar forked. */
function whisperHostPid(): number | undefined {
  const lines = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" }).split("\n");
  const line = lines.find((l) => l.includes("whisper-host"));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("whisper on whisper.cpp with a random-weight model", () => {
  let audio: AudioDir;
  let weightsDir: string;
  let sidecar: Sidecar;
  let client: InferenceClient;
  const clips: Float32Array[] = [];
  /** Each clip's transcription as a request of its own, which every other way of asking must match. */
  const alone: Transcription[] = [];

  beforeAll(async () => {
    audio = await createAudioDir();
    weightsDir = await weightsWith((path) => writeRandomWhisperModel(path, TEST_MODEL));
    for (const [i, phrase] of PHRASES.entries()) {
      await speakArabic(phrase, audio.path(`${i}.wav`));
      await sox(audio.path(`${i}.wav`), audio.path(`${i}-fixed.wav`), "pad", "0", String(CLIP_SECONDS), "trim", "0", String(CLIP_SECONDS));
      clips.push(await readAudio16k(audio.path(`${i}-fixed.wav`)));
    }
    sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger });
    client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 60_000 });
  });

  afterAll(async () => {
    client?.close();
    await sidecar?.close();
    await audio?.remove();
    if (weightsDir) await rm(weightsDir, { recursive: true, force: true });
  });

  it("finds the model file in the weights directory and reports whisper READY", async () => {
    const whisper = (await client.repositoryIndex()).find((m) => m.name === "whisper");
    expect(whisper).toEqual({ name: "whisper", version: "1", state: "READY", reason: "" });
    expect(await client.modelReady("whisper")).toBe(true);
  });

  it("transcribes short Arabic clips into segments and words that lie in order inside the clip", async () => {
    expect(clips[0]).toHaveLength(CLIP_SECONDS * 16_000);
    for (const clip of clips) {
      const result = await client.transcribe("whisper", clip, { language: "ar" });
      expectWellFormed(result, CLIP_SECONDS);
      alone.push(result);
    }
    // Different audio, different answers: what the next tests compare against tells clips apart.
    expect(new Set(alone.map((r) => r.text)).size).toBe(clips.length);
  });

  it("answers every row of a batched request, each as it answers that clip alone", async () => {
    expect(alone).toHaveLength(clips.length);
    const rows = clips.length;
    const samples = new Float32Array(rows * clips[0]!.length);
    clips.forEach((clip, i) => samples.set(clip, i * clip.length));
    const result = await client.infer({
      model: "whisper",
      inputs: [
        { name: "AUDIO", datatype: "FP32", shape: [rows, clips[0]!.length], data: samples },
        { name: "LANGUAGE", datatype: "BYTES", shape: [rows, 1], data: stringElements(PHRASES.map(() => "ar")) },
      ],
    });
    expect(result.outputs.get("TRANSCRIPT")?.shape).toEqual([rows, 1]);
    expect(result.outputs.get("SEGMENTS")?.shape).toEqual([rows, 1]);
    for (let row = 0; row < rows; row++) {
      expect(transcription(rowOf(result, row))).toEqual(alone[row]);
    }
  });

  it("checks MAX_ALTERNATIVES and gives one hypothesis, whisper.cpp keeping only its winning beam", async () => {
    expect(alone).toHaveLength(clips.length);
    const result = await client.transcribe("whisper", clips[0]!, { language: "ar", maxAlternatives: 3 });
    expect(result).toEqual(alone[0]);
    expect(result.alternatives).toEqual([result.text]);
    const refused = await client.transcribe("whisper", clips[0]!, { language: "ar", maxAlternatives: 11 }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ message: expect.stringMatching(/MAX_ALTERNATIVES: is 11; it must be an integer from 1 to 10/) });
  });

  it("answers parallel requests, each as it answers that clip alone", async () => {
    expect(alone).toHaveLength(clips.length);
    const order = [0, 1, 2, 1, 0];
    const results = await Promise.all(order.map((i) => client.transcribe("whisper", clips[i]!, { language: "ar" })));
    results.forEach((result, k) => expect(result).toEqual(alone[order[k]!]));
  });

  it("survives whisper.cpp dying mid-decode: that request is UNAVAILABLE and the next is served by a restarted runtime", async () => {
    expect(alone).toHaveLength(clips.length);
    const host = whisperHostPid();
    expect(host).toBeDefined();
    const before = cpuTicks(host!);
    let settled = false;
    const pending = client.transcribe("whisper", clips[0]!, { language: "ar" }).then(
      (result) => result,
      (err: unknown) => err,
    ).finally(() => (settled = true));
    // The host does nothing but decode: once it burns CPU, the request is inside whisper.cpp.
    while (!settled && cpuTicks(host!) - before < 10) await sleep(5);
    expect(settled, "the decode finished before the test could end its process").toBe(false);
    process.kill(host!, "SIGKILL");

    const failure = await pending;
    expect(failure).toBeInstanceOf(InferenceUnavailableError);
    expect((failure as Error).message).toContain("whisper runtime process exited (SIGKILL)");

    expect(await client.transcribe("whisper", clips[0]!, { language: "ar" })).toEqual(alone[0]);
    const restarted = whisperHostPid();
    expect(restarted).toBeDefined();
    expect(restarted).not.toBe(host);
    expect(await client.modelReady("whisper")).toBe(true);
  });
});

describe("whisper with a corrupt model file", () => {
  const corruptions: [string, (path: string) => Promise<unknown>, RegExp][] = [
    [
      "a model file cut off halfway (an interrupted download)",
      async (path) => {
        await writeRandomWhisperModel(path, TEST_MODEL);
        const bytes = await readFile(path);
        await writeFile(path, bytes.subarray(0, bytes.length >> 1));
      },
      /is unusable: truncated: data of tensor '[^']+' needs \d+ bytes at offset \d+/,
    ],
    ["a file that is no model at all", (path) => writeFile(path, Buffer.from("<html>404 Not Found</html>".repeat(100))), /is unusable: bad magic 0x[0-9a-f]{8}/],
  ];

  it.each(corruptions)("reports whisper UNAVAILABLE with the reason for %s, and serves the other models", async (_, corrupt, reason) => {
    const weightsDir = await weightsWith(corrupt);
    const sidecar = await startSidecar({ host: "127.0.0.1", port: 0, modelsDir, weightsDir, logger });
    const client = createInferenceClient({ addresses: [`127.0.0.1:${sidecar.port}`], deadlineMs: 30_000 });
    try {
      const whisper = (await client.repositoryIndex()).find((m) => m.name === "whisper")!;
      expect(whisper.state).toBe("UNAVAILABLE");
      expect(whisper.reason).toContain(join(weightsDir, "whisper", "ggml-test.bin"));
      expect(whisper.reason).toMatch(reason);
      // And how to put a good one in its place.
      expect(whisper.reason).toMatch(/replace it \(put a whisper\.cpp model file \(ggml-\*\.bin\) in /);
      expect(await client.modelReady("whisper")).toBe(false);

      const failure = await client.transcribe("whisper", new Float32Array(16_000), { language: "ar" }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(InferenceUnavailableError);
      expect((failure as Error).message).toMatch(reason);

      const keys = dtmfSequence("42");
      expect((await client.transcribe("dtmf", keys.audio)).text).toBe("42");
    } finally {
      client.close();
      await sidecar.close();
      await rm(weightsDir, { recursive: true, force: true });
    }
  });
});

/** One row of a batched ASR response, as the response to a request of that row alone. */
function rowOf(result: InferResult, row: number): InferResult {
  const pick = (name: string): Tensor => {
    const tensor = result.outputs.get(name)!;
    return { ...tensor, shape: [1, 1], data: [(tensor.data as Uint8Array[])[row]!] };
  };
  return { ...result, outputs: new Map(["TRANSCRIPT", "SEGMENTS", "ALTERNATIVES"].map((name) => [name, pick(name)])) };
}
