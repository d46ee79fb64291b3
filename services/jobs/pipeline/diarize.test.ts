// Diarization: clustering on synthetic embeddings whose speakers are known, the choice of method (channel,
// embedding, spectral, none) with the reason each gives, and the weights-free spectral path on two synthetic
// voices, scored by DER.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { rng } from "../../../inference/testing/random.js";
import { createAudioDir, readAudio16k, sox } from "../../../inference/local/testing/audio.js";
import { clusterEmbeddings, cosineDistance, diarize, spectralPrinter, speakerTurns, SPEAKER_MODEL } from "./diarize.js";
import { diarizationErrorRate, type SpeakerTurn } from "./der.js";
import { splitBySpeaker } from "./index.js";

const execFileAsync = promisify(execFile);

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

describe("spectral diarization of two espeak-ng voices (no speaker model)", () => {
  // Turns of two synthetic voices (espeak-ng's Arabic voice with a male and a female variant), 0.3 s apart.
  const lines = ["السلام عليكم كيف حالك اليوم", "أهلا وسهلا أنا بخير والحمد لله", "أريد أن أسأل عن فاتورة الشهر الماضي", "تفضل ما هو رقم الحساب من فضلك", "الرقم موجود في الرسالة التي وصلتني", "شكرا لك سأتحقق منه الآن"];
  const voices = ["ar+m3", "ar+f2"];
  let audio: Float32Array;
  const truth: SpeakerTurn[] = [];

  beforeAll(async () => {
    const dir = await createAudioDir("diarize-");
    try {
      const parts: Float32Array[] = [];
      let at = 0.3;
      for (const [i, line] of lines.entries()) {
        const wav = dir.path(`${i}.wav`);
        await execFileAsync("espeak-ng", ["-v", voices[i % 2]!, "-w", wav, line]);
        const trimmed = dir.path(`${i}-trim.wav`);
        await sox(wav, trimmed, "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse");
        const samples = await readAudio16k(trimmed);
        parts.push(samples);
        truth.push({ speaker: voices[i % 2]!, start: at, end: at + samples.length / 16_000 });
        at += samples.length / 16_000 + 0.3;
      }
      audio = new Float32Array(Math.ceil((at + 0.3) * 16_000));
      parts.forEach((p, i) => audio.set(p, Math.round(truth[i]!.start * 16_000)));
    } finally {
      await dir.remove();
    }
  }, 60_000);

  const notReady = { modelReady: async () => false, embed: async () => expect.fail("no model") };
  /** Words every 0.4 s over a span. */
  const wordsOver = (start: number, end: number) => Array.from({ length: Math.max(1, Math.floor((end - start) / 0.4)) }, (_, k) => ({ start: start + k * 0.4, end: Math.min(end, start + k * 0.4 + 0.35) }));

  it("finds the two voices, within a DER of 10 % with the count given and 20 % with it open", async () => {
    const spans = truth.map((t) => ({ start: t.start, end: t.end }));
    const given = await speakerTurns(spans, spectralPrinter(audio), { minSpeakers: 2, maxSpeakers: 2 });
    const open = await speakerTurns(spans, spectralPrinter(audio));
    const score = (turns: typeof given) => diarizationErrorRate(truth, turns.turns.map((t) => ({ speaker: String(t.speaker), start: t.start, end: t.end })));
    console.log(`two espeak-ng voices: DER ${(score(given).der * 100).toFixed(1)} % with 2 speakers given, ${(score(open).der * 100).toFixed(1)} % with the count open (${new Set(open.turns.map((t) => t.speaker)).size} found)`);
    expect(score(given).der).toBeLessThan(0.1);
    expect(score(open).der).toBeLessThan(0.2);
  });

  it("labels every word, splitting a segment in which the voice changes, only when diarization is asked for", async () => {
    // One segment over the first two turns (as a recogniser may join them), then one per turn.
    const segments = [
      { channel: 0, start: truth[0]!.start, end: truth[1]!.end, words: [...wordsOver(truth[0]!.start, truth[0]!.end), ...wordsOver(truth[1]!.start, truth[1]!.end)] },
      ...truth.slice(2).map((t) => ({ channel: 0, start: t.start, end: t.end, words: wordsOver(t.start, t.end) })),
    ];
    const asked = await diarize(notReady, [audio], segments, { requested: true, minSpeakers: 2, maxSpeakers: 2 });
    expect(asked.diarization.method).toBe("spectral");
    expect(asked.speakers.map((s) => s.id)).toEqual(["S1", "S2"]);
    const first = asked.wordSpeakers[0]!;
    const firstTurnWords = wordsOver(truth[0]!.start, truth[0]!.end).length;
    // Most words of each voice in the joined segment carry that voice's label, and the labels differ.
    const a = majorityOf(first.slice(0, firstTurnWords));
    const b = majorityOf(first.slice(firstTurnWords));
    expect(a).not.toBe(b);
    expect(asked.segmentSpeakers.slice(1)).toEqual([a, b, a, b]);

    const unasked = await diarize(notReady, [audio], segments);
    expect(unasked.diarization.method).toBe("none");
    expect(new Set(unasked.wordSpeakers.flat())).toEqual(new Set(["S1"]));
  });
});

function majorityOf(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0]![0];
}

describe("splitBySpeaker", () => {
  const words = [
    { word: "السلام", start: 0, end: 0.4, confidence: 0.9 },
    { word: "عليكم", start: 0.5, end: 0.9, confidence: 0.7 },
    { word: "أهلا", start: 1.2, end: 1.6, confidence: 0.5 },
  ];
  const segment = { channel: 0, start: 0, end: 1.8, text: "السلام عليكم أهلا", confidence: 0.7, words };

  it("cuts a segment where its words' speaker changes, each part with its words' times and text", () => {
    expect(splitBySpeaker(segment, "S1", ["S1", "S1", "S2"])).toEqual([
      { ...segment, speaker: "S1", end: 0.9, text: "السلام عليكم", confidence: 0.8, words: words.slice(0, 2) },
      { ...segment, speaker: "S2", start: 1.2, text: "أهلا", confidence: 0.5, words: words.slice(2) },
    ]);
  });

  it("keeps a segment of one speaker whole, and a segment without words with the speaker given", () => {
    expect(splitBySpeaker(segment, "S1", ["S2", "S2", "S2"])).toEqual([{ ...segment, speaker: "S2" }]);
    expect(splitBySpeaker({ ...segment, words: [] }, "S3", [])).toEqual([{ ...segment, words: [], speaker: "S3" }]);
  });

  it("keeps the runner-ups (max_alternatives) of a segment kept whole, and gives the parts of a cut one none", () => {
    const alternatives = ["السلام عليكم اهلا"];
    expect(splitBySpeaker({ ...segment, alternatives }, "S1", ["S1", "S1", "S1"])).toEqual([{ ...segment, alternatives, speaker: "S1" }]);
    const parts = splitBySpeaker({ ...segment, alternatives }, "S1", ["S1", "S1", "S2"]);
    expect(parts.map((p) => p.text)).toEqual(["السلام عليكم", "أهلا"]);
    for (const part of parts) expect(part).not.toHaveProperty("alternatives");
  });
});
