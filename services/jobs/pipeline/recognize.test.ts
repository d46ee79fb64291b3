// recognizeChunks against a scripted client: file times, order, the concurrency limit, progress,
// and stopping on abort or on the first failure. (The real sidecar path is pipeline.test.ts.)
// The client stays scripted on purpose: the real sidecar cannot be made to finish calls in reverse order,
// hang until aborted, or fail exactly on the nth call, which are the faults under test here.
import { describe, expect, it } from "vitest";
import type { Transcription } from "../../../inference/client/index.js";
import { mapLimited, recognizeChunks, type RecognitionChunk } from "./recognize.js";

const RATE = 16_000;

/** A client whose transcript of a chunk is its length, with one word at 0.1–0.3 s of chunk time. */
function scriptedClient(options: { delayMs?: (call: number) => number; failOn?: number } = {}) {
  let running = 0;
  const stats = { calls: 0, maxRunning: 0, aborted: 0 };
  const client = {
    transcribe: async (_model: string, audio: Float32Array, call: { signal?: AbortSignal } = {}): Promise<Transcription> => {
      const n = stats.calls++;
      running++;
      stats.maxRunning = Math.max(stats.maxRunning, running);
      try {
        await new Promise<void>((resolve, reject) => {
          const cancel = () => {
            clearTimeout(timer);
            stats.aborted++;
            reject(call.signal!.reason);
          };
          const timer = setTimeout(() => {
            call.signal?.removeEventListener("abort", cancel);
            resolve();
          }, options.delayMs?.(n) ?? 1);
          call.signal?.addEventListener("abort", cancel, { once: true });
        });
        if (n === options.failOn) throw new Error(`model failed on call ${n}`);
        const seconds = audio.length / RATE;
        return {
          text: `${seconds}`,
          language: "ar",
          duration: seconds,
          segments: [{ start: 0.1, end: 0.3, text: `${seconds}`, avgLogprob: -0.1, noSpeechProb: 0, words: [{ word: `${seconds}`, start: 0.1, end: 0.3, probability: 0.9 }] }],
          alternatives: [`${seconds}`],
        };
      } finally {
        running--;
      }
    },
  };
  return { client, stats };
}

const channels = [new Float32Array(60 * RATE), new Float32Array(60 * RATE)];

describe("recognizeChunks", () => {
  it("returns segments and words in file time, in channel and time order, whatever order calls finish in", async () => {
    const chunks: RecognitionChunk[] = [
      { channel: 1, start: 5, end: 7 },
      { channel: 0, start: 20, end: 21 },
      { channel: 0, start: 2.5, end: 4 },
    ];
    // Later calls finish first.
    const { client } = scriptedClient({ delayMs: (n) => 30 - 10 * n });
    const progress: [number, number][] = [];
    const results = await recognizeChunks(client, channels, chunks, { model: "dtmf", onProgress: (d, t) => progress.push([d, t]) });
    expect(results.map((r) => [r.chunk.channel, r.chunk.start])).toEqual([
      [0, 2.5],
      [0, 20],
      [1, 5],
    ]);
    expect(results.map((r) => r.segments[0]!.text)).toEqual(["1.5", "1", "2"]);
    expect(results[0]!.segments[0]).toMatchObject({ start: 2.6, end: 2.8 });
    expect(results[2]!.segments[0]!.words[0]).toMatchObject({ start: 5.1, end: 5.3 });
    expect(progress).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it("asks every chunk for max_alternatives and gives each segment the runner-ups that change its words only", async () => {
    const asked: Array<number | undefined> = [];
    const segment = (start: number, text: string) => ({ start, end: start + 1, text, avgLogprob: -0.1, noSpeechProb: 0, words: [] });
    const client = {
      transcribe: async (_model: string, _audio: Float32Array, call: { maxAlternatives?: number } = {}): Promise<Transcription> => {
        asked.push(call.maxAlternatives);
        return {
          text: "السلام عليكم رقمي خمسة",
          language: "ar",
          duration: 3,
          segments: [segment(0, "السلام عليكم"), segment(1, "رقمي خمسة")],
          alternatives: ["السلام عليكم رقمي خمسة", "السلام عليكم رقمي خمس", "السلام عليك رقم خمسة", "السلام عليكم رقمي ستة"],
        };
      },
    };
    const chunks: RecognitionChunk[] = [{ channel: 0, start: 0, end: 3 }];
    const [n] = await recognizeChunks(client, channels, chunks, { model: "whisper", maxAlternatives: 2 });
    expect(asked).toEqual([2]);
    // One runner-up each at most (max_alternatives 2); the one changing both segments belongs to neither.
    expect(n!.segments.map((s) => [s.text, s.alternatives])).toEqual([
      ["السلام عليكم", []],
      ["رقمي خمسة", ["رقمي خمس"]],
    ]);
    const [one] = await recognizeChunks(client, channels, chunks, { model: "whisper" });
    expect(asked).toEqual([2, undefined]);
    expect(one!.segments.map((s) => s.alternatives)).toEqual([[], []]);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => ({ channel: 0, start: i * 4, end: i * 4 + 3 }));
    const { client, stats } = scriptedClient({ delayMs: () => 5 });
    await recognizeChunks(client, channels, chunks, { model: "dtmf", concurrency: 3 });
    expect(stats.calls).toBe(12);
    expect(stats.maxRunning).toBe(3);
  });

  it("stops on abort: calls in flight are cancelled and no new ones start", async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => ({ channel: 0, start: i * 4, end: i * 4 + 3 }));
    const { client, stats } = scriptedClient({ delayMs: () => 10_000 });
    const controller = new AbortController();
    const running = recognizeChunks(client, channels, chunks, { model: "dtmf", concurrency: 2, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("job cancelled")), 20);
    await expect(running).rejects.toThrow("job cancelled");
    expect(stats.calls).toBe(2);
    expect(stats.aborted).toBe(2);
  });

  it("fails with the first failure, cancelling the others", async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => ({ channel: 0, start: i * 4, end: i * 4 + 3 }));
    const { client, stats } = scriptedClient({ delayMs: (n) => (n === 1 ? 5 : 10_000), failOn: 1 });
    await expect(recognizeChunks(client, channels, chunks, { model: "dtmf", concurrency: 3 })).rejects.toThrow("model failed on call 1");
    expect(stats.calls).toBe(3);
    expect(stats.aborted).toBe(2);
  });
});

describe("mapLimited", () => {
  it("maps nothing to nothing", async () => {
    expect(await mapLimited([], 4, undefined, async () => expect.fail("no work"))).toEqual([]);
  });
});
