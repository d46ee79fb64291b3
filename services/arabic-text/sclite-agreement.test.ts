// Our WER and CER must equal NIST sclite's on the same files (issue 6, item 4). Utterance pairs are
// generated from a fixed seed with every kind of edit; both sides are normalised with the scoring
// preset, written as UTF-8 .trn files, and scored by sclite and by us. S, D, I and N must be equal,
// in total and per utterance, and so must the alignments themselves (our tie-breaking is sclite's).
//
// Needs Debian's `sctk`; the test installs it when apt-get can run without a password, and is skipped,
// saying why, only when it cannot.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rng } from "../../inference/testing/random.js";
import { normalizeArabic } from "./normalize.js";
import { scoreCorpus } from "./score.js";
import type { CorpusScore, ErrorCounts, ScoreUnit, UtterancePair } from "./score.js";
import { ensureSctk, runSclite, toTrn } from "./testing/sclite.js";
import type { ScliteMode, ScliteReport } from "./testing/sclite.js";

// Words as a transcript or a recogniser might write them: diacritics, tatweel, hamza seats, taa
// marbuta, alef maqsura, both digit systems, Latin words, punctuation attached to words.
const VOCABULARY = [
  "ذَهَبَ", "الوَلَدُ", "إلى", "المدرسة", "مدرسه", "أحمد", "احمد", "آمنة", "على", "علي", "مسؤول", "مسئول",
  "كتـــاب", "كِتَاب", "الكتاب", "قال،", "لماذا؟", "نعم.", "«السلام»", "عليكم", "في", "من", "هذه", "هذا",
  "٢٠٢٤", "2024", "۱۲", "12", "٣٫٥", "1,000", "Zoom", "email", "OK", "iPhone", "الـZoom", "واتساب",
  "ﻻ", "ﷲ", "ي", "و", "مع", "بعد", "قبل", "يوم", "الأربعاء", "الساعة", "العاشرة", "صباحاً", "شكراً",
];

function generatePairs(seed: number, count: number): UtterancePair[] {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.uniform() * items.length)]!;
  const sentence = (length: number) => Array.from({ length }, () => pick(VOCABULARY));
  const pairs: UtterancePair[] = [];
  for (let k = 0; k < count; k++) {
    const ref = sentence(1 + Math.floor(random.uniform() * 12));
    let hyp: string[];
    switch (k % 10) {
      case 0: // the recogniser heard nothing
        hyp = [];
        break;
      case 1: // identical, up to spelling the normaliser folds
        hyp = [...ref];
        break;
      case 2: // two neighbours swapped: costs tie between substitutions and deletion + insertion
        hyp = [...ref];
        if (hyp.length > 1) [hyp[0], hyp[1]] = [hyp[1]!, hyp[0]!];
        break;
      case 3: // words run together and split apart: the character score sees through it
        hyp = ref.length > 1 ? [ref[0]! + ref[1]!, ...ref.slice(2)] : [...ref];
        if (hyp.length > 2) {
          const letters = [...hyp[2]!];
          hyp.splice(2, 1, letters.slice(0, 2).join(""), letters.slice(2).join(""));
        }
        break;
      case 4: // only punctuation in the reference: empty after normalisation
        pairs.push({ id: `spk${k % 3}_u${String(k).padStart(3, "0")}`, reference: "؟ ، !", hypothesis: pick(VOCABULARY) });
        continue;
      default: // random edits: substitute, delete, insert, stutter
        hyp = [];
        for (const word of ref) {
          const roll = random.uniform();
          if (roll < 0.15) hyp.push(pick(VOCABULARY));
          else if (roll < 0.25) continue;
          else if (roll < 0.35) hyp.push(word, pick(VOCABULARY));
          else if (roll < 0.42) hyp.push(word, word);
          else hyp.push(word);
        }
    }
    pairs.push({ id: `spk${k % 3}_u${String(k).padStart(3, "0")}`, reference: ref.join(" "), hypothesis: hyp.join(" ") });
  }
  return pairs;
}

/** Short sequences over four words: many equal-cost alignments, so tie-breaking decides the counts. */
function generateTiedPairs(seed: number, count: number): UtterancePair[] {
  const random = rng(seed);
  const words = ["كتب", "قلم", "ab", "بab"];
  const sentence = () => Array.from({ length: Math.floor(random.uniform() * 8) }, () => words[Math.floor(random.uniform() * 4)]!);
  return Array.from({ length: count }, (_, k) => ({
    id: `tie_u${String(k).padStart(3, "0")}`,
    reference: sentence().join(" "),
    hypothesis: sentence().join(" "),
  }));
}

const PAIRS = generatePairs(20261125, 40);
const TIED_PAIRS = generateTiedPairs(7, 200);

let unavailable: string | null = null;
let dir = "";

beforeAll(async () => {
  unavailable = await ensureSctk();
  if (unavailable) console.warn(`sclite agreement test skipped: ${unavailable}`);
  dir = await mkdtemp(join(tmpdir(), "sclite-agreement-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const MODES: Array<{ mode: ScliteMode; unit: ScoreUnit; asciiRunsAsTokens?: boolean }> = [
  { mode: "words", unit: "word" },
  { mode: "characters-noascii", unit: "character", asciiRunsAsTokens: true },
  { mode: "characters", unit: "character", asciiRunsAsTokens: false },
];
const CASES = [
  ...MODES.map((m) => ({ ...m, set: "transcripts", pairs: PAIRS })),
  ...MODES.map((m) => ({ ...m, set: "tied paths", pairs: TIED_PAIRS })),
];

function counts(c: ErrorCounts): ErrorCounts {
  const { correct, substitutions, deletions, insertions, referenceLength } = c;
  return { correct, substitutions, deletions, insertions, referenceLength };
}

describe("agreement with NIST sclite", () => {
  it("generates enough varied utterance pairs", () => {
    expect(PAIRS.length).toBeGreaterThanOrEqual(30);
    const normalized = PAIRS.map((p) => ({ ref: normalizeArabic(p.reference), hyp: normalizeArabic(p.hypothesis) }));
    expect(normalized.some((p) => p.hyp === "" && p.ref !== "")).toBe(true);
    expect(normalized.some((p) => p.ref === "" && p.hyp !== "")).toBe(true);
    expect(normalized.some((p) => /[0-9]/u.test(p.ref))).toBe(true);
    expect(normalized.some((p) => /[a-z]/u.test(p.ref) && /[\u0600-\u06FF]/u.test(p.ref))).toBe(true);
  });

  describe.each(CASES)("$set, $mode", ({ mode, unit, asciiRunsAsTokens, set, pairs }) => {
    let ours: CorpusScore;
    let theirs: ScliteReport;

    beforeAll(async () => {
      if (unavailable) return;
      ours = scoreCorpus(pairs, unit, { asciiRunsAsTokens });
      const refTrn = toTrn(ours.utterances.map((u) => ({ id: u.id, text: u.reference })));
      const hypTrn = toTrn(ours.utterances.map((u) => ({ id: u.id, text: u.hypothesis })));
      theirs = await runSclite(join(dir, `${set}-${mode}`.replace(/\W+/gu, "-")), refTrn, hypTrn, mode);
    });

    it("counts S, D, I and N as sclite does over the whole set", ({ skip }) => {
      if (unavailable) skip(unavailable);
      expect(counts(ours), theirs.command).toEqual(theirs.total);
      expect(ours.substitutions + ours.deletions + ours.insertions).toBeGreaterThan(0);
    });

    it("counts S, D, I and N as sclite does for every utterance", ({ skip }) => {
      if (unavailable) skip(unavailable);
      expect(theirs.utterances.size).toBe(pairs.length);
      for (const u of ours.utterances) {
        expect(counts(u), `${u.id}: "${u.reference}" / "${u.hypothesis}"`).toEqual(theirs.utterances.get(u.id));
      }
    });

    it("aligns every utterance as sclite does, ties included", ({ skip }) => {
      if (unavailable) skip(unavailable);
      for (const u of ours.utterances) {
        expect(u.pairs, u.id).toEqual(theirs.alignments.get(u.id));
      }
    });
  });
});
