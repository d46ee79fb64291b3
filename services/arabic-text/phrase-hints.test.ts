// Phrase hints: the checks that name the field, the decoder prompt, and the boost that rewrites
// near-miss words as the hint, with word times kept.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { allowedEdits, boostWords, boundedEditDistance, MAX_PHRASE_CHARS, phraseHintsOf, PROMPT_MAX_CHARS, promptWithHints } from "./phrase-hints.js";

const hints = (...phrases: Array<string | [string, number]>) =>
  phraseHintsOf({ boost: 0, phrases: phrases.map((p) => (typeof p === "string" ? { value: p, boost: 0 } : { value: p[0], boost: p[1] })) })!;

const words = (...ws: string[]) => ws.map((word, i) => ({ word, start: i, end: i + 0.8, probability: 0.5 + i / 100 }));

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).message;
  }
  throw new Error("not refused");
}

describe("phraseHintsOf", () => {
  it("refuses bad hints with INVALID_ARGUMENT naming the field", () => {
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: [{ value: "ok", boost: 0 }, { value: "  ", boost: 0 }] }, "config."))).toContain("config.phrase_hints.phrases[1].value");
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: [{ value: "ب".repeat(MAX_PHRASE_CHARS + 1), boost: 0 }] }))).toContain("phrase_hints.phrases[0].value");
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: [{ value: "واحد اثنان ثلاثة أربعة خمسة ستة سبعة ثمانية تسعة", boost: 0 }] }))).toContain("at most 8");
    expect(refusal(() => phraseHintsOf({ boost: 21, phrases: [{ value: "x", boost: 0 }] }))).toContain("phrase_hints.boost");
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: [{ value: "x", boost: -1 }] }))).toContain("phrase_hints.phrases[0].boost");
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: Array.from({ length: 1001 }, () => ({ value: "x", boost: 0 })) }))).toContain("phrase_hints.phrases");
    expect(refusal(() => phraseHintsOf({ boost: 0, phrases: [{ value: "؟!", boost: 0 }] }))).toContain("no letters");
  });

  it("is undefined without phrases, and takes each phrase's boost, else the list's, else 10", () => {
    expect(phraseHintsOf(undefined)).toBeUndefined();
    expect(phraseHintsOf({ boost: 5, phrases: [] })).toBeUndefined();
    const set = phraseHintsOf({ boost: 4, phrases: [{ value: "أ", boost: 0 }, { value: "ب", boost: 15 }] })!;
    expect(set.phrases.map((p) => p.boost)).toEqual([4, 15]);
    expect(hints("ج").phrases[0]!.boost).toBe(10);
  });

  it("prompts with the strongest phrases first, within the prompt's length, once each", () => {
    const set = hints(["فودافون كاش", 5], ["مدى", 15], "stc pay", "مدي");
    // "مدي" normalises as "مدى" does (alef maqsura): one phrase.
    expect(set.phrases).toHaveLength(3);
    expect(set.prompt).toBe("مدى، stc pay، فودافون كاش");
    const many = hints(...Array.from({ length: 60 }, (_, i) => `اسم${i} طويل`));
    expect([...many.prompt].length).toBeLessThanOrEqual(PROMPT_MAX_CHARS);
    expect(many.prompt.startsWith("اسم0 طويل، اسم1 طويل")).toBe(true);
    expect(many.phrases).toHaveLength(60);
  });

  it("puts the hints before the text the decoder continues", () => {
    expect(promptWithHints(hints("مدى"), "السلام عليكم")).toBe("مدى السلام عليكم");
    expect(promptWithHints(undefined, "السلام عليكم")).toBe("السلام عليكم");
    expect(promptWithHints(hints("مدى"), undefined)).toBe("مدى");
    expect(promptWithHints(undefined, undefined)).toBeUndefined();
  });
});

describe("boostWords", () => {
  it("rewrites a near-miss word as the hint, keeping its time and other fields", () => {
    const out = boostWords(words("حولت", "على", "فودافوم", "امس"), hints("فودافون"));
    expect(out.map((w) => w.word)).toEqual(["حولت", "على", "فودافون", "امس"]);
    expect(out[2]).toEqual({ word: "فودافون", start: 2, end: 2.8, probability: 0.52 });
  });

  it("matches a hint that recognition split or joined, spreading the run's time over the hint's words", () => {
    const joined = boostWords(words("ادفع", "بفودافونكاش"), hints("بفودافون كاش"));
    expect(joined.map((w) => w.word)).toEqual(["ادفع", "بفودافون", "كاش"]);
    expect(joined[1]!.start).toBe(1);
    expect(joined[2]!.end).toBe(1.8);
    expect(joined[1]!.end).toBe(joined[2]!.start);
    const split = boostWords(words("عميل", "ابو", "ظبي", "الاول"), hints("أبوظبي"));
    expect(split.map((w) => w.word)).toEqual(["عميل", "أبوظبي", "الاول"]);
    expect(split[1]).toMatchObject({ start: 1, end: 2.8 });
  });

  it("never counts alef, hamza, taa marbuta or diacritics as edits, and keeps the hint's spelling", () => {
    expect(boostWords(words("مكه", "المكرمه"), hints("مكة المكرمة")).map((w) => w.word)).toEqual(["مكة", "المكرمة"]);
  });

  it("lets the boost decide how far a word may be: none at boost 0, a third of the letters at 20", () => {
    expect(allowedEdits(9, 0)).toBe(0);
    expect(allowedEdits(9, 10)).toBe(1);
    expect(allowedEdits(9, 20)).toBe(3);
    // Short words match only exactly, whatever the boost.
    expect(allowedEdits(3, 20)).toBe(0);
    const said = words("تاكسي", "كريمم");
    expect(boostWords(said, hints(["كريم", 20])).map((w) => w.word)).toEqual(["تاكسي", "كريم"]);
    expect(boostWords(said, hints(["كريمة باص", 0])).map((w) => w.word)).toEqual(["تاكسي", "كريمم"]);
    // Eight letters: no edit at boost 5, one at 10, two at 20.
    expect(boostWords(words("انستكرام"), hints(["انستغرام", 5])).map((w) => w.word)).toEqual(["انستكرام"]);
    expect(boostWords(words("انستكرام"), hints(["انستغرام", 10])).map((w) => w.word)).toEqual(["انستغرام"]);
    expect(boostWords(words("انستكران"), hints(["انستغرام", 10])).map((w) => w.word)).toEqual(["انستكران"]);
    expect(boostWords(words("انستكران"), hints(["انستغرام", 20])).map((w) => w.word)).toEqual(["انستغرام"]);
  });

  it("leaves words no hint is near as they are, and picks the closest of two hints", () => {
    const said = words("السلام", "عليكم", "ورحمة", "الله");
    expect(boostWords(said, hints("فودافون كاش", "مدى"))).toEqual(said);
    expect(boostWords(words("سامسونغ"), hints(["سامسونج", 20], ["سامسونغز", 20])).map((w) => w.word)).toEqual(["سامسونج"]);
    expect(boostWords([], hints("مدى"))).toEqual([]);
    expect(boostWords(said, undefined)).toEqual(said);
  });

  it("keeps a word's leading space and the punctuation after it (words as Whisper writes them)", () => {
    const out = boostWords([{ word: " فودافوم", start: 0, end: 1 }], hints("فودافون"));
    expect(out[0]!.word).toBe(" فودافون");
    const marked = boostWords([{ word: " فودافوم،", start: 0, end: 1 }, { word: " كاش؟", start: 1, end: 2 }], hints("فودافون كاش"));
    expect(marked.map((w) => w.word)).toEqual([" فودافون", " كاش؟"]);
    expect(boostWords([{ word: " بفودافونكاش.", start: 0, end: 1 }], hints("بفودافون كاش")).map((w) => w.word)).toEqual([" بفودافون", " كاش."]);
  });
});

describe("boundedEditDistance", () => {
  it("is Levenshtein's distance up to the limit, and limit + 1 beyond", () => {
    expect(boundedEditDistance("kitten", "sitting", 5)).toBe(3);
    expect(boundedEditDistance("kitten", "sitting", 2)).toBe(3);
    expect(boundedEditDistance("", "abc", 3)).toBe(3);
    expect(boundedEditDistance("abc", "abc", 0)).toBe(0);
    expect(boundedEditDistance("فودافون", "فودافوم", 1)).toBe(1);
  });
});
