// LocalAgreement-2 and the utterance buffer's trimming, on scripted hypotheses.
import { describe, expect, it } from "vitest";
import { joinWords, LocalAgreement, wordKey, type TimedWord } from "./local-agreement.js";
import { UtteranceBuffer } from "./utterance-buffer.js";

/** "a b c" with word i at [i, i + 0.8) seconds, or at the times given. */
function hyp(text: string, times?: Array<[number, number]>): TimedWord[] {
  return text.split(" ").map((word, i) => ({
    word,
    start: times?.[i]?.[0] ?? i,
    end: times?.[i]?.[1] ?? i + 0.8,
    probability: 0.9,
    separator: " ",
  }));
}

const words = (ws: readonly TimedWord[]) => ws.map((w) => w.word);

describe("LocalAgreement-2", () => {
  it("confirms nothing from one hypothesis, then the prefix two hypotheses agree on", () => {
    const la = new LocalAgreement();
    expect(la.insert(hyp("السلام عليكم ورحمه"))).toEqual({ confirmed: [], tentative: hyp("السلام عليكم ورحمه") });
    const step = la.insert(hyp("السلام عليكم ورحمة الله"));
    expect(words(step.confirmed)).toEqual(["السلام", "عليكم"]);
    expect(words(step.tentative)).toEqual(["ورحمة", "الله"]);
    expect(words(la.confirmed)).toEqual(["السلام", "عليكم"]);
  });

  it("never changes a confirmed word, even when a later hypothesis rewrites it", () => {
    const la = new LocalAgreement();
    la.insert(hyp("a b c"));
    la.insert(hyp("a b x"));
    // The model now hears the start differently; a and b stay, and only words after them count.
    const step = la.insert(hyp("z y x w"));
    expect(words(la.confirmed)).toEqual(["a", "b", "x"]);
    expect(words(step.confirmed)).toEqual(["x"]);
    expect(words(step.tentative)).toEqual(["w"]);
  });

  it("stops agreeing at the first difference: later agreeing words stay tentative", () => {
    const la = new LocalAgreement();
    la.insert(hyp("one two three four"));
    const step = la.insert(hyp("one TWO? three four"));
    // Punctuation and case do not make two words differ.
    expect(words(step.confirmed)).toEqual(["one", "TWO?", "three", "four"]);
    const la2 = new LocalAgreement();
    la2.insert(hyp("one two three four"));
    expect(words(la2.insert(hyp("one deux three four")).confirmed)).toEqual(["one"]);
  });

  it("skips words of the hypothesis that re-recognise confirmed audio, by time", () => {
    const la = new LocalAgreement();
    la.insert(hyp("a b c", [[0, 0.5], [0.6, 1], [1.2, 1.6]]));
    la.insert(hyp("a b c d", [[0, 0.5], [0.6, 1], [1.2, 1.6], [1.8, 2]]));
    expect(words(la.confirmed)).toEqual(["a", "b", "c"]);
    expect(la.confirmedEnd).toBe(1.6);
    // The buffer still holds a..c: their re-recognition, even spelled differently, is not new.
    const step = la.insert(hyp("A bee c d e", [[0, 0.5], [0.6, 1], [1.2, 1.6], [1.8, 2], [2.1, 2.4]]));
    expect(words(step.confirmed)).toEqual(["d"]);
    expect(words(la.confirmed)).toEqual(["a", "b", "c", "d"]);
  });

  it("keeps a repeated word that is new audio (keypad 1 1)", () => {
    const la = new LocalAgreement();
    la.insert(hyp("1", [[0.1, 0.2]]));
    la.insert(hyp("1 1", [[0.1, 0.2], [0.3, 0.4]]));
    expect(words(la.confirmed)).toEqual(["1"]);
    la.insert(hyp("1 1", [[0.1, 0.2], [0.3, 0.4]]));
    expect(words(la.confirmed)).toEqual(["1", "1"]);
  });

  it("flushes the final decode's new words at the end of an utterance", () => {
    const la = new LocalAgreement();
    la.insert(hyp("a b c"));
    la.insert(hyp("a b c"));
    expect(la.flush(hyp("a b c d e"))).toMatchObject([{ word: "d" }, { word: "e" }]);
    expect(joinWords(la.confirmed)).toBe("a b c d e");
    expect(la.tentative).toEqual([]);
  });

  it("flushes the tentative words when there is no final decode", () => {
    const la = new LocalAgreement();
    la.insert(hyp("a b"));
    la.insert(hyp("a c"));
    expect(words(la.flush())).toEqual(["c"]);
    expect(words(la.confirmed)).toEqual(["a", "c"]);
  });

  it("joins words with each word's own separator", () => {
    const digits = ["1", "2", "#"].map((word, i) => ({ word, start: i, end: i + 0.1, probability: 1, separator: "" }));
    expect(joinWords(digits)).toBe("12#");
    expect(joinWords(hyp("السلام عليكم"))).toBe("السلام عليكم");
    expect(wordKey("«عليكم»،")).toBe("عليكم");
  });
});

describe("the utterance buffer", () => {
  it("keeps stream positions through appends and trims", () => {
    const buffer = new UtteranceBuffer(16_000, 16_000, 8);
    const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);
    buffer.append(ramp(0, 16_000));
    buffer.append(ramp(16_000, 16_000));
    expect(buffer.startSeconds).toBe(1);
    expect(buffer.durationSeconds).toBe(2);
    expect(buffer.endSample).toBe(48_000);
    // Trim at stream second 1.5: the first half second goes.
    expect(buffer.trimBefore(1.5)).toBe(8_000);
    expect(buffer.startSample).toBe(24_000);
    expect(buffer.snapshot()[0]).toBe(8_000);
    expect(buffer.snapshot().length).toBe(24_000);
    // Appending after a trim compacts or grows without losing or reordering a sample.
    for (let k = 0; k < 50; k++) {
      buffer.append(ramp(32_000 + k * 1000, 1000));
      buffer.trimBefore(buffer.startSeconds + 0.03);
    }
    const held = buffer.snapshot();
    for (let i = 1; i < held.length; i++) expect(held[i]! - held[i - 1]!).toBe(1);
    expect(held[held.length - 1]).toBe(32_000 + 50 * 1000 - 1);
    expect(buffer.startSample + held.length).toBe(buffer.endSample);
    expect(held[0]).toBe(buffer.startSample - 16_000);
  });

  it("never trims past what it holds, and snapshots up to a stream position", () => {
    const buffer = new UtteranceBuffer(16_000, 0);
    buffer.append(new Float32Array(1600).fill(0.5));
    expect(buffer.trimBefore(-1)).toBe(0);
    expect(buffer.snapshotUntil(800).length).toBe(800);
    expect(buffer.snapshotUntil(10_000).length).toBe(1600);
    expect(buffer.trimBefore(5)).toBe(1600);
    expect(buffer.length).toBe(0);
    expect(buffer.startSample).toBe(1600);
  });
});
