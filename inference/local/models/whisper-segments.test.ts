// From whisper.cpp's detailed result to the SEGMENTS contract, on hand-made results whose right
// answer is known (the random-weight model in whisper.test.ts only shows the shapes hold).
import { describe, expect, it } from "vitest";
import { buildSegments } from "./whisper-segments.js";
import type { HostSegment, HostToken } from "./whisper-host.js";

const utf8 = new TextEncoder();
// A tiny vocabulary: ids are indexes; 99 plays end-of-text (ids at or above it are special tokens).
const vocab = [" مرحبا", " بكم", " في", " الرياض", "\xd8", "\xa7", " ال"].map((t) => utf8.encode(t));
// "ا" (U+0627) is the two bytes d8 a7: tokens 4 and 5 carry one byte each, as BPE may split a letter.
vocab[4] = Uint8Array.of(0xd8);
vocab[5] = Uint8Array.of(0xa7);
const EOT = 99;

const token = (id: number, from?: number, to?: number, p = 0.9): HostToken => ({ id, text: "", p, from, to });
const segment = (from: number, to: number, tokens: HostToken[]): HostSegment => ({ from, to, text: "", lang: "ar", confidence: 0.9, tokens });

describe("whisper segments", () => {
  it("joins token bytes into Arabic words with their token times, in seconds", () => {
    const [s] = buildSegments([segment(500, 2500, [token(0, 500, 1200), token(1, 1200, 1800), token(2, 1800, 2500), token(EOT)])], vocab, EOT, 10);
    expect(s).toMatchObject({ start: 0.5, end: 2.5, text: "مرحبا بكم في" });
    expect(s!.words.map((w) => [w.word, w.start, w.end])).toEqual([
      ["مرحبا", 0.5, 1.2],
      ["بكم", 1.2, 1.8],
      ["في", 1.8, 2.5],
    ]);
  });

  it("decodes a letter split across two tokens into one word", () => {
    const [s] = buildSegments([segment(0, 1000, [token(6, 0, 300), token(4, 300, 400), token(5, 400, 600)])], vocab, EOT, 5);
    expect(s!.text).toBe("الا");
    expect(s!.words).toHaveLength(1);
    expect(s!.words[0]).toMatchObject({ word: "الا", start: 0, end: 0.6 });
  });

  it("spreads words evenly over the segment when tokens carry no times", () => {
    const [s] = buildSegments([segment(1000, 3000, [token(0), token(1)])], vocab, EOT, 5);
    expect(s!.words.map((w) => [w.start, w.end])).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });

  it("keeps times inside the audio, segments in order and words inside their segment", () => {
    const segments = buildSegments(
      [segment(-50, 1500, [token(0, 1400, 900), token(1, 200, 1600)]), segment(1200, 9000, [token(3, 1300, 9500)])],
      vocab,
      EOT,
      4,
    );
    expect(segments).toHaveLength(2);
    const [a, b] = segments;
    expect(a!.start).toBe(0);
    expect(b!.start).toBeGreaterThanOrEqual(a!.end);
    expect(b!.end).toBe(4);
    for (const s of segments) {
      let last = s.start;
      for (const w of s.words) {
        expect(w.start).toBeGreaterThanOrEqual(last);
        expect(w.end).toBeGreaterThanOrEqual(w.start);
        expect(w.end).toBeLessThanOrEqual(s.end);
        last = w.end;
      }
    }
  });

  it("leaves out segments with no text and scores the rest by their tokens' probabilities", () => {
    const segments = buildSegments(
      [segment(0, 500, [token(EOT)]), segment(500, 1000, [token(2, 500, 1000, 0.5), token(3, 500, 1000, 0.5)])],
      vocab,
      EOT,
      2,
    );
    expect(segments.map((s) => s.text)).toEqual(["في الرياض"]);
    expect(segments[0]!.avg_logprob).toBeCloseTo(Math.log(0.5), 3);
    expect(segments[0]!.words.map((w) => w.probability)).toEqual([0.5, 0.5]);
  });
});
