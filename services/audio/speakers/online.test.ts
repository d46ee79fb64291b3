// The online clusterer behind live diarization, on synthetic embeddings whose speakers are known: labels
// given once and kept, a new speaker only past the threshold, never more than max_speaker_count, and the
// first prints of spectral sessions held on one speaker until there are enough to standardise by.
import { describe, expect, it } from "vitest";
import { rng } from "../../../inference/testing/random.js";
import { OnlineClusterer, OnlineDiarizer } from "./online.js";

const DIM = 64;

/** Prints near each of `speakers` random directions; `turns` says whose each batch is. */
function voices(speakers: number, seed = 3) {
  const { normal } = rng(seed);
  const centres = Array.from({ length: speakers }, () => Float32Array.from({ length: DIM }, () => normal()));
  return (speaker: number, count: number, noise = 0.3) => Array.from({ length: count }, () => centres[speaker]!.map((v) => v + noise * normal()));
}

const embeddings = (options: { maxSpeakers?: number; minSpeakers?: number; threshold?: number } = {}) =>
  new OnlineClusterer({ threshold: options.threshold ?? 0.6, standardize: false, warmUp: 1, history: 300, ...options });

describe("OnlineClusterer", () => {
  it("labels each voice by order of first appearance, keeping a voice's label when it comes back", () => {
    const of = voices(3);
    const clusterer = embeddings();
    const turns = [0, 1, 0, 2, 1, 2, 0];
    const labels = turns.map((speaker) => clusterer.assign(of(speaker, 3)));
    // Speaker k is named the k-th to appear here, by construction of `turns`.
    expect(labels).toEqual(turns.map((speaker) => [speaker, speaker, speaker]));
    expect(clusterer.speakers).toBe(3);
  });

  it("never names more speakers than max_speaker_count, and opens one only past the threshold", () => {
    const of = voices(4);
    const capped = embeddings({ maxSpeakers: 2 });
    const labels = [0, 1, 2, 3, 0, 1].flatMap((speaker) => capped.assign(of(speaker, 3)));
    expect(new Set(labels)).toEqual(new Set([0, 1]));
    expect(capped.speakers).toBe(2);
    // Past the threshold of cosine distance 2 nothing is another speaker: every voice is the first.
    const lenient = embeddings({ threshold: 2 });
    expect(new Set([0, 1, 2, 3].flatMap((speaker) => lenient.assign(of(speaker, 3))))).toEqual(new Set([0]));
    // min_speaker_count lowers the bar for a new speaker until that many are named.
    expect(new Set([0, 1, 0, 1].flatMap((speaker) => embeddings({ threshold: 1.2 }).assign(of(speaker, 3))))).toEqual(new Set([0]));
    const two = embeddings({ threshold: 1.2, minSpeakers: 2 });
    expect([0, 1, 0, 1].flatMap((speaker) => two.assign(of(speaker, 3)))).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
  });

  it("holds spectral prints on the first speaker until there are enough to standardise by", () => {
    const of = voices(2);
    const clusterer = new OnlineClusterer({ threshold: 1.15, standardize: true, warmUp: 5, history: 300 });
    expect(clusterer.assign(of(0, 2))).toEqual([0, 0]);
    expect(clusterer.assign(of(1, 2))).toEqual([0, 0]);
    // With enough prints, a new voice is told apart, and the earlier labels are not revised.
    expect(clusterer.assign(of(1, 4))).toEqual([1, 1, 1, 1]);
  });
});

describe("OnlineDiarizer", () => {
  it("asks the embedding model for each window of an utterance, widened to half a second", async () => {
    const lengths: number[] = [];
    const diarizer = new OnlineDiarizer({
      embed: async (samples) => {
        lengths.push(samples.length);
        // Two "voices": the sign of the audio.
        return Float32Array.of(samples[0]! > 0 ? 1 : 0, samples[0]! > 0 ? 0 : 1);
      },
    });
    diarizer.push(new Float32Array(3 * 16_000).fill(0.1));
    diarizer.push(new Float32Array(3 * 16_000).fill(-0.1));
    expect(await diarizer.turns({ start: 0.2, end: 2.8 })).toEqual([{ start: 0.2, end: 2.8, speaker: 0 }]);
    expect(await diarizer.turns({ start: 4, end: 4.2 })).toEqual([{ start: 4, end: 4.2, speaker: 1 }]);
    expect(Math.min(...lengths)).toBe(8000);
    expect(diarizer.method).toBe("embedding");
  });

  it("keeps only the last historySeconds of audio: older spans are not printed, recent ones are", async () => {
    const heard: number[] = [];
    const diarizer = new OnlineDiarizer({ historySeconds: 1, embed: async (samples) => (heard.push(samples[0]!), Float32Array.of(1, 0)) });
    diarizer.push(new Float32Array(2 * 16_000).fill(0.1));
    diarizer.push(new Float32Array(16_000).fill(-0.1));
    diarizer.push(new Float32Array(16_000).fill(-0.2));
    // Seconds 0–1 left the ring: the span takes the last speaker (none yet: 0) without a print.
    expect(await diarizer.turns({ start: 0.2, end: 0.8 })).toEqual([{ start: 0.2, end: 0.8, speaker: 0 }]);
    expect(heard).toEqual([]);
    await diarizer.turns({ start: 3.2, end: 3.8 });
    expect(heard).toEqual([Math.fround(-0.2)]);
  });
});
