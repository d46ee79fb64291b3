// Cardinal numbers spoken in Arabic words, Modern Standard Arabic and dialect spellings, read into their
// values: the reading half of inverse text normalisation (chain.ts decides what to write) and what lets
// redaction see numbers spoken in words.
//
// Words are compared in the scoring form of normalize.ts (alef and hamza seats, taa marbuta, alef maqsura
// and diacritics folded), so "ثلاثة", "ثلاثه" and "ثَلاثَة" are one entry, and so are "إثنين" and "اثنين".
// The tables below are written in ordinary spelling and folded once, when this module loads.
//
// Grammar (one number, a "phrase"):
//   phrase  := [scaled (و scaled)*] [و group]        scales strictly decreasing: مليار > مليون > ألف
//   scaled  := ألف | ألفين | تلتلاف… (alone)  |  group ألف | 3..10 آلاف/تلاف
//   group   := hundred [و below100] | below100
//   below100:= unit | teen | عشرة | unit و tens | tens      ("خمسة وعشرين" = 25: units before tens)
//   teen    := حداشر… (one word) | unit عشر/عشرة (two words: "ثلاثة عشر", "أحد عشر", "اثنا عشر")
//   hundred := مية… (one word: "ميتين", "تلاتمية", "خمسمائة") | unit مية (two words: "تلات مية")
// "و" joins as a prefix ("وعشرين") or as a word of its own ("و عشرين"). A word with punctuation at its end
// ends a phrase; one with punctuation at its start cannot continue one.
//
// What is left as a word (a phrase that is only one of these words, outside a run of digits read one by
// one): words that are as often something else, so that ordinary text is not turned into digits:
//   واحد / واحدة / وحدة / أحد / إحدى  "one", "someone", "one of": "واحدة من الناس"
//   صفر                               also the month Safar
//   مية / مئة / مائة                  "مية" is also "water" in Egyptian and Levantine
//   ألف                               also the letter alef, and "ألف مبروك", "ألف شكر"
//   ست / سبع / تسع / خمس / عشر / ثمان   also "lady", "lion", "it holds", "a fifth", "a tenth"
// Numbers are never read inside other words: "بخمسة" (prefixes other than و), names and compounds stay.

import { normalizeArabic } from "./normalize.js";

export type NumberWord =
  /** 0..9. `teenOnly`: "أحد", "اثنا": only before عشر/عشرة. */
  | { kind: "unit"; value: number; teenOnly?: boolean }
  /** عشرة / عشر: 10 alone, or the second word of a teen. */
  | { kind: "ten" }
  | { kind: "teen"; value: number }
  | { kind: "tens"; value: number }
  | { kind: "hundred"; value: number }
  /** ألف, مليون, مليار (times 1 or after a group); ألفين, مليونين (times 2); تلتلاف… (times n). */
  | { kind: "scale"; value: number; times?: number }
  /** آلاف, ملايين, مليارات, تلاف: only after 3 to 10. */
  | { kind: "scalePlural"; value: number };

/** The folded spelling of a word, as it is looked up here: the scoring form of the one normaliser. */
export function foldWord(word: string): string {
  return normalizeArabic(word, "scoring");
}

const UNITS: Record<number, string[]> = {
  0: ["صفر", "زيرو"],
  1: ["واحد", "واحدة", "وحدة"],
  2: ["اثنان", "اثنين", "اتنين", "تنين", "ثنين", "اثنتان", "اثنتين", "ثنتين", "تنتين", "اتنتين", "جوج"],
  3: ["ثلاثة", "ثلاث", "تلاتة", "تلات", "تلاثة", "تلاث"],
  4: ["أربعة", "أربع"],
  5: ["خمسة", "خمس"],
  6: ["ستة", "ست"],
  7: ["سبعة", "سبع"],
  8: ["ثمانية", "ثماني", "ثمان", "ثمنية", "تمانية", "تمنية"],
  9: ["تسعة", "تسع"],
};
/** Only as the first word of a two-word teen: "أحد عشر", "إحدى عشرة", "اثنا عشر", "اثنتا عشرة". */
const TEEN_ONLY_UNITS: Record<number, string[]> = { 1: ["أحد", "إحدى"], 2: ["اثنا", "اثني", "اثنتا", "اثنتي"] };
const TEN = ["عشرة", "عشر"];
/** One-word teens: Egyptian (-تاشر), Gulf and Levantine (-طعش, -تعش), Maghrebi (-طاش). */
const TEENS: Record<number, string[]> = {
  11: ["حداشر", "احداشر", "حدعش", "احدعش", "حدعشر", "حضاش", "حداش"],
  12: ["اطناشر", "اتناشر", "طناشر", "اثنعش", "اثنعشر", "ثنعش", "اتنعش", "اطنعش", "طناش"],
  13: ["تلطاشر", "تلتاشر", "تلاتاشر", "ثلطعش", "ثلاثطعش", "تلتعش", "ثلتعش", "تلطعش", "تلطاش"],
  14: ["اربعتاشر", "اربعطاشر", "اربعطعش", "اربعتعش", "ربعطاش", "اربعطاش"],
  15: ["خمستاشر", "خمسطاشر", "خمسطعش", "خمستعش", "خمسطاش"],
  16: ["ستاشر", "سطاشر", "سطعش", "ستعش", "سطاش"],
  17: ["سبعتاشر", "سبعطاشر", "سبعطعش", "سبعتعش", "سبعطاش"],
  18: ["تمنتاشر", "تمنطاشر", "ثمنطعش", "ثمانطعش", "تمنطعش", "ثمنتعش", "تمنطاش"],
  19: ["تسعتاشر", "تسعطاشر", "تسعطعش", "تسعتعش", "تسعطاش"],
};
const TENS: Record<number, string[]> = {
  20: ["عشرين", "عشرون"],
  30: ["ثلاثين", "ثلاثون", "تلاتين", "تلاثين"],
  40: ["أربعين", "أربعون"],
  50: ["خمسين", "خمسون"],
  60: ["ستين", "ستون"],
  70: ["سبعين", "سبعون"],
  80: ["ثمانين", "ثمانون", "تمانين", "تمنين"],
  90: ["تسعين", "تسعون"],
};
const HUNDRED = ["مئة", "مائة", "مية", "ماية", "مئه"];
const TWO_HUNDRED = ["مئتان", "مئتين", "مائتان", "مائتين", "ميتين", "متين", "مايتين"];
/** Stems that take a hundred word in one: "تلاتمية", "خمسمائة", "تمنمية". */
const HUNDRED_STEMS: Record<number, string[]> = {
  3: ["ثلاث", "تلات", "تلت"],
  4: ["أربع", "ربع"],
  5: ["خمس"],
  6: ["ست"],
  7: ["سبع"],
  8: ["ثمان", "ثمن", "تمن", "تمان"],
  9: ["تسع"],
};
const SCALES: Array<{ value: number; one: string[]; two: string[]; plural: string[] }> = [
  { value: 1_000, one: ["ألف", "ألفا"], two: ["ألفين", "ألفان"], plural: ["آلاف", "ألاف", "تلاف", "الاف"] },
  { value: 1_000_000, one: ["مليون", "مليونا"], two: ["مليونين", "مليونان"], plural: ["ملايين", "ملاين"] },
  { value: 1_000_000_000, one: ["مليار", "بليون"], two: ["مليارين", "ملياران"], plural: ["مليارات"] },
];
/** Egyptian thousands in one word: "تلتلاف" 3000 … "عشرتلاف" 10000. */
const FUSED_THOUSANDS: Record<number, string[]> = {
  3: ["تلتلاف", "تلاتلاف", "تلاتتلاف"],
  4: ["اربعتلاف", "ربعتلاف"],
  5: ["خمستلاف"],
  6: ["ستلاف", "ستتلاف"],
  7: ["سبعتلاف"],
  8: ["تمنتلاف", "تمانتلاف"],
  9: ["تسعتلاف"],
  10: ["عشرتلاف"],
};

/** Words a one-word phrase is not read as (see the header). Folded. */
export const AMBIGUOUS_ALONE: ReadonlySet<string> = new Set(
  ["واحد", "واحدة", "وحدة", "أحد", "إحدى", "صفر", "مية", "مئة", "مائة", "ماية", "ألف", "ست", "سبع", "تسع", "خمس", "عشر", "ثمان"].map(foldWord),
);

function buildLexicon(): Map<string, NumberWord> {
  const lexicon = new Map<string, NumberWord>();
  const add = (words: string[], entry: NumberWord) => {
    for (const w of words) lexicon.set(foldWord(w), entry);
  };
  for (const [value, words] of Object.entries(UNITS)) add(words, { kind: "unit", value: Number(value) });
  for (const [value, words] of Object.entries(TEEN_ONLY_UNITS)) add(words, { kind: "unit", value: Number(value), teenOnly: true });
  add(TEN, { kind: "ten" });
  for (const [value, words] of Object.entries(TEENS)) add(words, { kind: "teen", value: Number(value) });
  for (const [value, words] of Object.entries(TENS)) add(words, { kind: "tens", value: Number(value) });
  add(HUNDRED, { kind: "hundred", value: 100 });
  add(TWO_HUNDRED, { kind: "hundred", value: 200 });
  for (const [n, stems] of Object.entries(HUNDRED_STEMS)) {
    add(stems.flatMap((stem) => HUNDRED.map((h) => stem + h)), { kind: "hundred", value: Number(n) * 100 });
  }
  for (const s of SCALES) {
    add(s.one, { kind: "scale", value: s.value });
    add(s.two, { kind: "scale", value: s.value, times: 2 });
    add(s.plural, { kind: "scalePlural", value: s.value });
  }
  for (const [n, words] of Object.entries(FUSED_THOUSANDS)) add(words, { kind: "scale", value: 1_000, times: Number(n) });
  return lexicon;
}

const LEXICON = buildLexicon();
const WAW = foldWord("و");

/** A word read for numbers: its folded core, the number word it is (if any) and whether "و" joins it. */
export interface NumberReading {
  entry?: NumberWord;
  /** The word had a "و" prefix ("وعشرين"). */
  waw: boolean;
  /** The word is "و" alone. */
  lone: boolean;
  /** The folded core, "و" prefix removed when it was one. */
  core: string;
}

/** Reads one word (without its leading and trailing punctuation). */
export function readNumberWord(core: string): NumberReading {
  const folded = foldWord(core);
  if (folded === WAW) return { waw: false, lone: true, core: folded };
  const whole = LEXICON.get(folded);
  if (whole) return { entry: whole, waw: false, lone: false, core: folded };
  if (folded.startsWith(WAW)) {
    const rest = folded.slice(WAW.length);
    const entry = LEXICON.get(rest);
    if (entry) return { entry, waw: true, lone: false, core: rest };
  }
  return { waw: false, lone: false, core: folded };
}

/** One word as the phrase parser sees it. */
export interface ParserWord {
  reading: NumberReading;
  /** Punctuation before / after the word's core. */
  lead: string;
  trail: string;
}

/** A number found in a word list: words [from, to) are its words, `value` its value. */
export interface NumberPhrase {
  from: number;
  to: number;
  value: number;
  /** The phrase's first word has a "و" prefix: "وخمسة" (written "و5"). */
  waw: boolean;
  /** A one-word phrase of AMBIGUOUS_ALONE. */
  ambiguous: boolean;
}

type GroupState = "start" | "hundreds" | "units" | "teen" | "tens";

/** The longest number phrase starting at word `from`, or undefined when none starts there. */
export function parsePhrase(words: readonly ParserWord[], from: number): NumberPhrase | undefined {
  const first = words[from];
  if (!first?.reading.entry) return undefined;
  let total = 0;
  let group = 0;
  let state: GroupState = "start";
  let lastScale = Infinity;
  let teenPending = false;
  let best: NumberPhrase | undefined;
  let k = from;
  while (k < words.length) {
    const isFirst = k === from;
    let at = k;
    let joined = false;
    if (!isFirst) {
      if (words[k - 1]!.trail || words[k]!.lead) break;
      if (words[k]!.reading.lone) {
        // "و" on its own joins the next word when that is a number word.
        if (words[k]!.trail || !words[k + 1]?.reading.entry || words[k + 1]!.lead || words[k + 1]!.reading.waw) break;
        at = k + 1;
        joined = true;
      } else {
        joined = words[k]!.reading.waw;
      }
    }
    const n = words[at]!.reading.entry;
    if (!n) break;
    const startsGroup = state === "start" && (isFirst || joined);
    const continuesHundreds = state === "hundreds" && joined;
    let ok = true;
    switch (n.kind) {
      case "unit":
        if (n.value === 0) {
          // Zero is a number only on its own: "صفر" then "خمسة" are two numbers (digits read one by one).
          ok = isFirst;
          if (ok) state = "teen";
        } else if (teenPending) {
          ok = false;
        } else if (startsGroup || continuesHundreds) {
          group += n.value;
          state = "units";
          teenPending = n.teenOnly === true;
        } else ok = false;
        break;
      case "ten":
        if (state === "units" && !joined && !isFirst) {
          group += 10;
          state = "teen";
          teenPending = false;
        } else if (!teenPending && (startsGroup || continuesHundreds)) {
          group += 10;
          state = "teen";
        } else ok = false;
        break;
      case "teen":
        if (!teenPending && (startsGroup || continuesHundreds)) {
          group += n.value;
          state = "teen";
        } else ok = false;
        break;
      case "tens":
        if (!teenPending && ((state === "units" && joined) || startsGroup || continuesHundreds)) {
          group += n.value;
          state = "tens";
        } else ok = false;
        break;
      case "hundred":
        if (teenPending) ok = false;
        else if (startsGroup) {
          group = n.value;
          state = "hundreds";
        } else if (state === "units" && !joined && n.value === 100 && group >= 1 && group <= 9) {
          group *= 100;
          state = "hundreds";
        } else ok = false;
        break;
      case "scale":
        if (teenPending || n.value >= lastScale) ok = false;
        else if (startsGroup) {
          total += n.value * (n.times ?? 1);
          lastScale = n.value;
          state = "start";
        } else if (state !== "start" && !joined && n.times === undefined && group > 0) {
          total += group * n.value;
          group = 0;
          lastScale = n.value;
          state = "start";
        } else ok = false;
        break;
      case "scalePlural":
        if (!teenPending && state !== "start" && !joined && group >= 3 && group <= 10 && n.value < lastScale) {
          total += group * n.value;
          group = 0;
          lastScale = n.value;
          state = "start";
        } else ok = false;
        break;
    }
    if (!ok) break;
    k = at + 1;
    if (!teenPending) {
      best = { from, to: k, value: total + group, waw: first.reading.waw, ambiguous: false };
    }
    if (n.kind === "unit" && n.value === 0) break;
  }
  if (best && best.to - best.from === 1) best.ambiguous = AMBIGUOUS_ALONE.has(first.reading.core);
  return best;
}

/** A stretch of words read as digits: one number, or several read one after another ("صفر خمسة خمسة"). */
export interface DigitReading {
  from: number;
  to: number;
  /** ASCII digits. */
  digits: string;
  waw: boolean;
}

/**
 * Every number in `words`, in order. Adjacent phrases (no "و", no punctuation between them) are digits
 * read one by one when there are at least three of them, or two starting with zero: "صفر خمسة خمسة" →
 * "055", "خمسة خمسة خمسة" → "555"; two other adjacent numbers stay two ("عشرين تلاتين" → "20 30"), since
 * a pair is as often a range or a correction. A one-word phrase of AMBIGUOUS_ALONE is left out, unless it
 * is part of such a run.
 */
export function readNumbers(words: readonly ParserWord[]): DigitReading[] {
  const phrases: NumberPhrase[] = [];
  for (let i = 0; i < words.length; ) {
    const p = parsePhrase(words, i);
    if (p) {
      phrases.push(p);
      i = p.to;
    } else i += 1;
  }
  const out: DigitReading[] = [];
  for (let i = 0; i < phrases.length; ) {
    let j = i + 1;
    while (j < phrases.length && phrases[j]!.from === phrases[j - 1]!.to && !phrases[j]!.waw && !words[phrases[j - 1]!.to - 1]!.trail && !words[phrases[j]!.from]!.lead) j += 1;
    const run = phrases.slice(i, j);
    if (run.length >= 3 || (run.length === 2 && run[0]!.value === 0)) {
      out.push({ from: run[0]!.from, to: run[run.length - 1]!.to, digits: run.map((p) => String(p.value)).join(""), waw: run[0]!.waw });
    } else {
      for (const p of run) if (!p.ambiguous) out.push({ from: p.from, to: p.to, digits: String(p.value), waw: p.waw });
    }
    i = j;
  }
  return out;
}
