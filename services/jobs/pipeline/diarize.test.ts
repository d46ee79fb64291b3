// Diarization: clustering on synthetic embeddings whose speakers are known, and the choice of
// method (channel, embedding, none) with the reason each gives.
import { describe, expect, it } from "vitest";
import { rng } from "../../../inference/testing/random.js";
import { clusterEmbeddings, cosineDistance, diarize, SPEAKER_MODEL } from "./diarize.js";

const DIM = 192;

/** `count` embeddings near each of `speakers` random directions, interleaved as a conversation would. */
function conversation(speakers: number, count: number, noise: number, seed = 7) {
  const { normal } = rng(seed);
  const centres = Array.from({ length: speakers }, () => Float32Array.from({ length: DIM }, () => normal()));
  const truth: number[] = [];
  const embeddings: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    // A fixed but irregular turn order.
    const speaker = (i * 7 + (i >> 2)) % speakers;
    truth.push(speaker);
    embeddings.push(centres[speaker]!.map((v) => v + noise * normal()));
  }
  return { truth, embeddings };
}

/** True when the two labelings partition the items the same way (labels may be renamed). */
function samePartition(a: number[], b: number[]): boolean {
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  return a.every((x, i) => {
    const y = b[i]!;
    if ((forward.get(x) ?? y) !== y || (backward.get(y) ?? x) !== x) return false;
    forward.set(x, y);
    backward.set(y, x);
    return true;
  });
}

describe("clusterEmbeddings", () => {
  it("recovers three speakers from noisy embeddings, numbered by first appearance", () => {
    const { truth, embeddings } = conversation(3, 40, 0.4);
    const labels = clusterEmbeddings(embeddings);
    expect(samePartition(labels, truth)).toBe(true);
    expect(new Set(labels).size).toBe(3);
    expect(labels[0]).toBe(0);
    expect(labels.find((l) => l !== 0)).toBe(1);
  });

  it("merges past the threshold to respect maxSpeakers, and stops at minSpeakers", () => {
    const { embeddings } = conversation(4, 30, 0.3);
    expect(new Set(clusterEmbeddings(embeddings)).size).toBe(4);
    expect(new Set(clusterEmbeddings(embeddings, { maxSpeakers: 2 })).size).toBe(2);
    // A threshold that would merge everyone, held at two speakers.
    expect(new Set(clusterEmbeddings(embeddings, { threshold: 2, minSpeakers: 2 })).size).toBe(2);
  });

  it("keeps one speaker as one cluster, and handles no segments", () => {
    const { embeddings } = conversation(1, 10, 0.4);
    expect(clusterEmbeddings(embeddings)).toEqual(new Array(10).fill(0));
    expect(clusterEmbeddings([])).toEqual([]);
  });

  it("measures cosine distance", () => {
    expect(cosineDistance(Float32Array.of(1, 0), Float32Array.of(2, 0))).toBeCloseTo(0);
    expect(cosineDistance(Float32Array.of(1, 0), Float32Array.of(0, 3))).toBeCloseTo(1);
    expect(cosineDistance(Float32Array.of(1, 0), Float32Array.of(-1, 0))).toBeCloseTo(2);
  });
});

describe("diarize", () => {
  const segments = [
    { channel: 0, start: 0, end: 1 },
    { channel: 1, start: 0.5, end: 2 },
    { channel: 0, start: 2, end: 2.2 },
  ];
  const silence = (seconds: number) => new Float32Array(seconds * 16_000);

  it("labels multichannel audio by channel, without asking for embeddings", async () => {
    const client = { modelReady: async () => true, embed: async () => expect.fail("no embeddings for multichannel audio") };
    const result = await diarize(client, [silence(3), silence(3)], segments);
    expect(result.diarization.method).toBe("channel");
    expect(result.segmentSpeakers).toEqual(["S1", "S2", "S1"]);
    expect(result.speakers).toEqual([
      { id: "S1", channel: 0 },
      { id: "S2", channel: 1 },
    ]);
  });

  it("says plainly that mono audio was not diarized when the speaker model is not ready", async () => {
    const client = { modelReady: async () => false, embed: async () => expect.fail("not ready") };
    const mono = segments.map((s) => ({ ...s, channel: 0 }));
    const result = await diarize(client, [silence(3)], mono);
    expect(result.diarization).toEqual({ method: "none", reason: expect.stringMatching(/speaker_embedding model is not ready/) });
    expect(result.segmentSpeakers).toEqual(["S1", "S1", "S1"]);
    expect(result.speakers).toEqual([{ id: "S1", channel: 0 }]);
  });

  it("clusters embeddings of mono segments, widening short ones to the model's minimum", async () => {
    // Two "voices": the fake model's embedding is which half of the file the segment's audio is from.
    const audio = new Float32Array(4 * 16_000);
    audio.fill(0.1, 0, 2 * 16_000);
    audio.fill(-0.1, 2 * 16_000);
    const lengths: number[] = [];
    const client = {
      modelReady: async (name: string) => name === SPEAKER_MODEL,
      embed: async (segment: Float32Array) => {
        lengths.push(segment.length);
        const v = new Float32Array(DIM);
        v[segment[0]! > 0 ? 0 : 1] = 1;
        return v;
      },
    };
    const mono = [
      { channel: 0, start: 0.1, end: 1 },
      { channel: 0, start: 2.5, end: 2.6 },
      { channel: 0, start: 1, end: 1.8 },
      { channel: 0, start: 3, end: 3.9 },
    ];
    const result = await diarize(client, [audio], mono);
    expect(result.diarization.method).toBe("embedding");
    expect(result.segmentSpeakers).toEqual(["S1", "S2", "S1", "S2"]);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(8_000);
  });
});
