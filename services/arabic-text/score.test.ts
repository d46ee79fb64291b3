import { describe, expect, it } from "vitest";
import { rng } from "../../inference/testing/random.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import {
  MAX_ALIGNMENT_CELLS,
  alignTokens,
  characterErrorRate,
  characterTokens,
  scoreCorpus,
  wordErrorRate,
  wordTokens,
} from "./score.js";
import type { AlignedPair } from "./score.js";

const w = (s: string) => wordTokens(s);

describe("alignTokens", () => {
  it("counts correct words and returns the pairs", () => {
    const a = alignTokens(w("ذهب الولد"), w("ذهب الولد"));
    expect(a).toMatchObject({ correct: 2, substitutions: 0, deletions: 0, insertions: 0, referenceLength: 2 });
    expect(a.pairs).toEqual([
      { op: "correct", ref: "ذهب", hyp: "ذهب" },
      { op: "correct", ref: "الولد", hyp: "الولد" },
    ]);
  });

  it("counts a substitution, a deletion and an insertion separately", () => {
    const a = alignTokens(w("ذهب الولد الى المدرسه"), w("ذهب البنت المدرسه اليوم"));
    expect(a).toMatchObject({ correct: 2, substitutions: 1, deletions: 1, insertions: 1, referenceLength: 4 });
    // sclite's own alignment of this pair (-o sgml): C,"ذهب","ذهب":D,"الولد",:S,"الى","البنت":C,…:I,,"اليوم"
    expect(a.pairs).toEqual([
      { op: "correct", ref: "ذهب", hyp: "ذهب" },
      { op: "deletion", ref: "الولد", hyp: null },
      { op: "substitution", ref: "الى", hyp: "البنت" },
      { op: "correct", ref: "المدرسه", hyp: "المدرسه" },
      { op: "insertion", ref: null, hyp: "اليوم" },
    ]);
  });

  it("handles empty sides", () => {
    expect(alignTokens([], [])).toMatchObject({ correct: 0, substitutions: 0, deletions: 0, insertions: 0, referenceLength: 0, pairs: [] });
    expect(alignTokens(w("a b"), [])).toMatchObject({ deletions: 2, referenceLength: 2 });
    expect(alignTokens([], w("a b"))).toMatchObject({ insertions: 2, referenceLength: 0 });
  });

  it("uses sclite's costs (sub 4, ins/del 3), which change the counts, not only the pairs", () => {
    // Unit costs tie 2 substitutions (2) with deletion + insertion (2); sclite's costs give 8 against 6.
    const a = alignTokens(w("a b"), w("b a"));
    expect(a).toMatchObject({ correct: 1, substitutions: 0, deletions: 1, insertions: 1 });
    expect(a.pairs).toEqual([
      { op: "deletion", ref: "a", hyp: null },
      { op: "correct", ref: "b", hyp: "b" },
      { op: "insertion", ref: null, hyp: "a" },
    ]);
  });

  it("breaks cost ties as sclite does: diagonal first, insertion over deletion, traced from the end", () => {
    // "كتب الولد الدرس" / "كتب الولدالدرس": S+D either way round (cost 7); sclite deletes first, then substitutes.
    expect(alignTokens(w("كتب الولد الدرس"), w("كتب الولدالدرس")).pairs).toEqual([
      { op: "correct", ref: "كتب", hyp: "كتب" },
      { op: "deletion", ref: "الولد", hyp: null },
      { op: "substitution", ref: "الدرس", hyp: "الولدالدرس" },
    ]);
    // A word split in two: insertion before the substitution.
    expect(alignTokens(w("الولدالدرس"), w("الولد الدرس")).pairs.map((p) => p.op)).toEqual(["insertion", "substitution"]);
  });

  it("prefers a repeated word as an insertion next to its correct twin", () => {
    const a = alignTokens(w("نعم نعم قال"), w("نعم نعم نعم قال"));
    expect(a).toMatchObject({ correct: 3, insertions: 1, substitutions: 0, deletions: 0 });
  });

  it("traces back in bands with the same result as a full cost matrix", () => {
    const random = rng(11);
    const sentence = (length: number) => Array.from({ length }, () => ["a", "b", "c"][Math.floor(random.uniform() * 3)]!);
    for (const n of [0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 50]) {
      for (let t = 0; t < 20; t++) {
        const ref = sentence(n);
        const hyp = sentence(Math.floor(random.uniform() * (n + 5)));
        expect(alignTokens(ref, hyp).pairs, `${ref} / ${hyp}`).toEqual(fullMatrixAlignment(ref, hyp));
      }
    }
  });

  it("refuses an alignment too large to hold in memory, with a typed error", () => {
    const side = Array.from({ length: Math.ceil(Math.sqrt(MAX_ALIGNMENT_CELLS)) + 1 }, () => "x");
    expect(() => alignTokens(side, side)).toThrow(InvalidArgumentError);
  });
});

describe("tokens", () => {
  it("words are whitespace-separated", () => {
    expect(wordTokens("  ذهب \t الولد\nالى ")).toEqual(["ذهب", "الولد", "الى"]);
    expect(wordTokens("")).toEqual([]);
  });

  it("characters exclude spaces and keep ASCII runs whole, as sclite -c NOASCII", () => {
    expect(characterTokens("كتب الولد")).toEqual(["ك", "ت", "ب", "ا", "ل", "و", "ل", "د"]);
    expect(characterTokens("abcكتب 2024 café")).toEqual(["abc", "ك", "ت", "ب", "2024", "caf", "é"]);
  });

  it("characters are code points with asciiRunsAsTokens false, as plain sclite -c", () => {
    expect(characterTokens("ab كَ 😀", false)).toEqual(["a", "b", "ك", "\u064E", "😀"]);
  });
});

describe("wordErrorRate and characterErrorRate", () => {
  it("normalise with the scoring preset first, so spelling variants are not errors", () => {
    const r = wordErrorRate("ذَهَبَ أحمدُ إلى المدرسةِ، في ٢٠٢٤.", "ذهب احمد الى المدرسه في 2024");
    expect(r).toMatchObject({ unit: "word", correct: 6, substitutions: 0, deletions: 0, insertions: 0, errorRate: 0 });
    expect(r.reference).toBe("ذهب احمد الي المدرسه في 2024");
  });

  it("score the text as given with normalize: false", () => {
    const r = wordErrorRate("إلى المدرسة", "الى المدرسه", { normalize: false });
    expect(r).toMatchObject({ substitutions: 2, errorRate: 1 });
  });

  it("accept a preset name or partial options", () => {
    expect(wordErrorRate("مدرسة", "مدرسه", { normalize: { foldTaaMarbuta: false } }).errorRate).toBe(1);
    expect(wordErrorRate("مَدرسة", "مدرسة", { normalize: "display" }).errorRate).toBe(1);
  });

  it("WER is (S + D + I) / N and can exceed 1", () => {
    expect(wordErrorRate("ذهب الولد الى المدرسه", "ذهب البنت المدرسه اليوم").errorRate).toBe(3 / 4);
    expect(wordErrorRate("نعم", "لا لا لا").errorRate).toBe(3);
  });

  it("is 0 for two empty texts and undefined (null) for an empty reference only", () => {
    expect(wordErrorRate("", "").errorRate).toBe(0);
    expect(wordErrorRate("؟", "نعم")).toMatchObject({ errorRate: null, insertions: 1, referenceLength: 0 });
    expect(wordErrorRate("نعم", "")).toMatchObject({ errorRate: 1, deletions: 1 });
  });

  it("CER does not count spaces: merged or split words cost nothing", () => {
    const r = characterErrorRate("كتب الولد الدرس", "كتب الولدالدرس");
    expect(r).toMatchObject({ unit: "character", correct: 13, substitutions: 0, deletions: 0, insertions: 0, errorRate: 0 });
    expect(wordErrorRate("كتب الولد الدرس", "كتب الولدالدرس").errorRate).toBe(2 / 3);
  });

  it("CER counts letters, and ASCII words as one token each unless asked otherwise", () => {
    const r = characterErrorRate("قال zoom", "قيل zoon");
    expect(r).toMatchObject({ correct: 2, substitutions: 2, referenceLength: 4 });
    expect(characterErrorRate("قال zoom", "قيل zoon", { asciiRunsAsTokens: false })).toMatchObject({
      correct: 5,
      substitutions: 2,
      referenceLength: 7,
    });
  });
});

describe("scoreCorpus", () => {
  it("sums counts over utterances; the rate is total errors over total reference length", () => {
    const corpus = scoreCorpus(
      [
        { id: "a", reference: "ذهب الولد الى المدرسه", hypothesis: "ذهب الولد الى المدرسه" },
        { id: "b", reference: "نعم", hypothesis: "لا لا" },
        { id: "c", reference: "", hypothesis: "" },
      ],
      "word",
    );
    expect(corpus).toMatchObject({ correct: 4, substitutions: 1, deletions: 0, insertions: 1, referenceLength: 5 });
    expect(corpus.errorRate).toBe(2 / 5);
    expect(corpus.utterances.map((u) => [u.id, u.errorRate])).toEqual([
      ["a", 0],
      ["b", 2],
      ["c", 0],
    ]);
  });
});

/** The textbook version: the whole matrix of costs, sclite's costs and tie order, traced from the end. */
function fullMatrixAlignment(ref: string[], hyp: string[]): AlignedPair[] {
  const cost = Array.from({ length: ref.length + 1 }, (_, i) => Array.from({ length: hyp.length + 1 }, (_, j) => 3 * (i + j)));
  const step = Array.from({ length: ref.length + 1 }, (_, i) =>
    Array.from({ length: hyp.length + 1 }, (): "S" | "D" | "I" => (i === 0 ? "I" : "D")),
  );
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= hyp.length; j++) {
      const diagonal = cost[i - 1]![j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 4);
      const deletion = cost[i - 1]![j]! + 3;
      const insertion = cost[i]![j - 1]! + 3;
      const best = Math.min(diagonal, deletion, insertion);
      cost[i]![j] = best;
      step[i]![j] = diagonal === best ? "S" : deletion < insertion ? "D" : "I";
    }
  }
  const pairs: AlignedPair[] = [];
  for (let i = ref.length, j = hyp.length; i > 0 || j > 0; ) {
    const s = step[i]![j];
    if (s === "S") {
      pairs.push({ op: ref[i - 1] === hyp[j - 1] ? "correct" : "substitution", ref: ref[--i]!, hyp: hyp[--j]! });
    } else if (s === "D") {
      pairs.push({ op: "deletion", ref: ref[--i]!, hyp: null });
    } else {
      pairs.push({ op: "insertion", ref: null, hyp: hyp[--j]! });
    }
  }
  return pairs.reverse();
}
