// The one Arabic text normaliser of the platform. Scoring (WER/CER) and display call
// `normalizeArabic` with a preset, so a reference transcript and a hypothesis are always compared in
// the same form. Every rule is an option; the two presets below are the combinations the platform names.
//
// Rules, in the order they run (later rules see the output of earlier ones):
//
// | #  | Option                  | What it does                                                            | scoring | display |
// |----|-------------------------|-------------------------------------------------------------------------|---------|---------|
// | 1  | foldPresentationForms   | Arabic presentation forms U+FB50–U+FDFF and U+FE70–U+FEFE become the     | yes     | yes     |
// |    |                         | letters they draw (NFKC of that character alone): ﻻ → لا, ﷲ → الله.      |         |         |
// | 2  | unicodeForm             | NFC (canonical: ا + U+0654 → أ) or NFKC (also compatibility: ² → 2,     | NFKC    | NFC     |
// |    |                         | full-width Ａ → A).                                                      |         |         |
// | 3  | removeFormatControls    | Drops invisible controls: ZWSP/ZWNJ/ZWJ U+200B–U+200D, LRM/RLM          | yes     | yes     |
// |    |                         | U+200E–U+200F, bidi embeddings/isolates U+202A–U+202E, U+2066–U+2069,   |         |         |
// |    |                         | Arabic letter mark U+061C, word joiner U+2060, BOM U+FEFF.              |         |         |
// | 4  | removeDiacritics        | Drops tashkeel U+064B–U+065F (fathatan … sukun, maddah/hamza marks),     | yes     | no      |
// |    |                         | superscript alef U+0670, Quranic marks U+0610–U+061A, U+06D6–U+06ED and  |         |         |
// |    |                         | U+08D3–U+08FF.                                                           |         |         |
// | 5  | removeTatweel           | Drops tatweel (kashida) U+0640: كتـــاب → كتاب.                           | yes     | yes     |
// | 6  | foldAlef                | أ U+0623, إ U+0625, آ U+0622, ٱ U+0671 → ا U+0627.                       | yes     | no      |
// | 7  | foldHamza               | ؤ U+0624 → و U+0648, ئ U+0626 → ي U+064A. Lone hamza ء is kept.          | yes     | no      |
// | 8  | foldTaaMarbuta          | ة U+0629 → ه U+0647.                                                     | yes     | no      |
// | 9  | foldAlefMaqsura         | ى U+0649 → ي U+064A.                                                     | yes     | no      |
// | 10 | foldFarsiLetters        | Persian keyboard letters in Arabic text: ی U+06CC → ي, ک U+06A9 → ك.     | yes     | no      |
// |    |                         | (Rule 1 turns some presentation forms into these, e.g. ﮎ → ک.)          |         |         |
// | 11 | digits                  | "ascii": Arabic-Indic ٠–٩ U+0660–U+0669 and Extended (Persian) ۰–۹       | ascii   | keep    |
// |    |                         | U+06F0–U+06F9 → 0–9, Arabic decimal separator ٫ → "." and thousands      |         |         |
// |    |                         | separator ٬ dropped between digits. "arabic-indic": the reverse (0–9 and |         |         |
// |    |                         | ۰–۹ → ٠–٩). "keep": unchanged.                                            |         |         |
// | 12 | punctuation             | "remove": every punctuation and symbol character (Unicode P and S, which | remove  | keep    |
// |    |                         | includes ، ؛ ؟ ۔ ٪ « » “ ” and Latin .,;:!?"'()-) becomes a space, except |         |         |
// |    |                         | a decimal point between digits (3.5 stays one token) and a thousands     |         |         |
// |    |                         | comma between digits, which is dropped (1,000 → 1000).                  |         |         |
// |    |                         | "latin": ، ؛ ؟ ۔ ٪ → , ; ? . %. "arabic": , ; ? → ، ؛ ؟ (not between       |         |         |
// |    |                         | digits). Both unify quotes: “ ” „ ‟ « » → ", ‘ ’ ‚ ‛ → '. "keep": unchanged.|         |         |
// | 13 | lowercase               | Lower-cases Latin (and other cased) letters; Arabic has no case.         | yes     | no      |
// | 14 | (always)                | Whitespace runs (any Unicode space, tab, newline) → one space; trimmed.  | yes     | yes     |
//
// The scoring preset follows common Arabic ASR evaluation practice: spelling variants that speech
// cannot distinguish (hamza seats, taa marbuta vs haa, alef maqsura vs yaa, diacritics, digit systems,
// punctuation) are not counted as errors. Callers that want one of them counted pass partial options,
// e.g. `{ foldTaaMarbuta: false }`.

export type DigitStyle = "ascii" | "arabic-indic" | "keep";
export type PunctuationStyle = "remove" | "latin" | "arabic" | "keep";

export interface NormalizeOptions {
  /** Rule 1. */
  foldPresentationForms: boolean;
  /** Rule 2. */
  unicodeForm: "NFC" | "NFKC";
  /** Rule 3. */
  removeFormatControls: boolean;
  /** Rule 4. */
  removeDiacritics: boolean;
  /** Rule 5. */
  removeTatweel: boolean;
  /** Rule 6. */
  foldAlef: boolean;
  /** Rule 7. */
  foldHamza: boolean;
  /** Rule 8. */
  foldTaaMarbuta: boolean;
  /** Rule 9. */
  foldAlefMaqsura: boolean;
  /** Rule 10. */
  foldFarsiLetters: boolean;
  /** Rule 11. */
  digits: DigitStyle;
  /** Rule 12. */
  punctuation: PunctuationStyle;
  /** Rule 13. */
  lowercase: boolean;
}

/** For WER/CER: folds every spelling variant speech cannot tell apart. */
export const SCORING_PRESET: Readonly<NormalizeOptions> = Object.freeze({
  foldPresentationForms: true,
  unicodeForm: "NFKC",
  removeFormatControls: true,
  removeDiacritics: true,
  removeTatweel: true,
  foldAlef: true,
  foldHamza: true,
  foldTaaMarbuta: true,
  foldAlefMaqsura: true,
  foldFarsiLetters: true,
  digits: "ascii",
  punctuation: "remove",
  lowercase: true,
});

/** For showing text: letters, diacritics, digits and punctuation stay as written. */
export const DISPLAY_PRESET: Readonly<NormalizeOptions> = Object.freeze({
  foldPresentationForms: true,
  unicodeForm: "NFC",
  removeFormatControls: true,
  removeDiacritics: false,
  removeTatweel: true,
  foldAlef: false,
  foldHamza: false,
  foldTaaMarbuta: false,
  foldAlefMaqsura: false,
  foldFarsiLetters: false,
  digits: "keep",
  punctuation: "keep",
  lowercase: false,
});

export const NORMALIZE_PRESETS = Object.freeze({ scoring: SCORING_PRESET, display: DISPLAY_PRESET });
export type NormalizePresetName = keyof typeof NORMALIZE_PRESETS;

/** A preset's name, or a preset with some rules changed. */
export type NormalizeSpec = NormalizePresetName | Partial<NormalizeOptions>;

/** Partial options start from the scoring preset, so `{ foldTaaMarbuta: false }` means "scoring, but keep ة". */
export function resolveNormalizeOptions(spec: NormalizeSpec = "scoring"): NormalizeOptions {
  if (typeof spec === "string") return { ...NORMALIZE_PRESETS[spec] };
  return { ...SCORING_PRESET, ...spec };
}

const PRESENTATION_FORM = /[\uFB50-\uFDFF\uFE70-\uFEFE]/gu;
const FORMAT_CONTROL = /[\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/gu;
const DIACRITIC = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u08D3-\u08FF]/gu;
const TATWEEL = /\u0640/gu;
const ALEF_FORMS = /[\u0622\u0623\u0625\u0671]/gu;
const ARABIC_INDIC_DIGIT = /[\u0660-\u0669]/gu;
const EXTENDED_ARABIC_INDIC_DIGIT = /[\u06F0-\u06F9]/gu;
const ASCII_DIGIT = /[0-9]/gu;
/** Any digit rules 11 and 12 know: ASCII, Arabic-Indic, Extended Arabic-Indic. */
const D = "[0-9\\u0660-\\u0669\\u06F0-\\u06F9]";
const ARABIC_DECIMAL_SEPARATOR_IN_NUMBER = new RegExp(`(?<=${D})\\u066B(?=${D})`, "gu");
const ARABIC_THOUSANDS_SEPARATOR_IN_NUMBER = new RegExp(`(?<=${D})\\u066C(?=${D})`, "gu");
const PUNCTUATION_OR_SYMBOL = /[\p{P}\p{S}]/gu;
const DIGIT = new RegExp(D, "u");
const DECIMAL_SEPARATORS = new Set([".", "\u066B"]);
const THOUSANDS_SEPARATORS = new Set([",", "\u066C"]);
const LATIN_PUNCTUATION_NOT_IN_NUMBER = new RegExp(`(?<!${D})[,;?]|[,;?](?!${D})`, "gu");
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u00AB\u00BB]/gu;
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B]/gu;
const WHITESPACE = /[\s\u0085]+/gu;

const ARABIC_TO_LATIN_PUNCTUATION: Record<string, string> = {
  "\u060C": ",", // ، Arabic comma
  "\u061B": ";", // ؛ Arabic semicolon
  "\u061F": "?", // ؟ Arabic question mark
  "\u06D4": ".", // ۔ Arabic full stop
  "\u066A": "%", // ٪ Arabic percent sign
};
const LATIN_TO_ARABIC_PUNCTUATION: Record<string, string> = { ",": "\u060C", ";": "\u061B", "?": "\u061F" };

/** Normalises Arabic text by the rules in the table at the top of this file. */
export function normalizeArabic(text: string, spec: NormalizeSpec = "scoring"): string {
  const o = resolveNormalizeOptions(spec);
  let s = text;
  if (o.foldPresentationForms) {
    // An isolated form of a mark (ﹰ U+FE70) decomposes to a space and the mark; the space is dropped so the
    // mark stays on its letter.
    s = s.replace(PRESENTATION_FORM, (c) => c.normalize("NFKC").replace(/^ /u, ""));
  }
  s = s.normalize(o.unicodeForm);
  if (o.removeFormatControls) s = s.replace(FORMAT_CONTROL, "");
  if (o.removeDiacritics) s = s.replace(DIACRITIC, "");
  if (o.removeTatweel) s = s.replace(TATWEEL, "");
  if (o.foldAlef) s = s.replace(ALEF_FORMS, "\u0627");
  if (o.foldHamza) s = s.replace(/\u0624/gu, "\u0648").replace(/\u0626/gu, "\u064A");
  if (o.foldTaaMarbuta) s = s.replace(/\u0629/gu, "\u0647");
  if (o.foldAlefMaqsura) s = s.replace(/\u0649/gu, "\u064A");
  if (o.foldFarsiLetters) s = s.replace(/\u06CC/gu, "\u064A").replace(/\u06A9/gu, "\u0643");
  s = foldDigits(s, o.digits);
  s = foldPunctuation(s, o.punctuation);
  if (o.lowercase) s = s.toLowerCase();
  return s.replace(WHITESPACE, " ").trim();
}

function foldDigits(s: string, style: DigitStyle): string {
  switch (style) {
    case "ascii":
      return s
        .replace(ARABIC_INDIC_DIGIT, (c) => String(c.charCodeAt(0) - 0x0660))
        .replace(EXTENDED_ARABIC_INDIC_DIGIT, (c) => String(c.charCodeAt(0) - 0x06f0))
        .replace(ARABIC_DECIMAL_SEPARATOR_IN_NUMBER, ".")
        .replace(ARABIC_THOUSANDS_SEPARATOR_IN_NUMBER, "");
    case "arabic-indic":
      return s
        .replace(ASCII_DIGIT, (c) => String.fromCharCode(0x0660 + c.charCodeAt(0) - 0x30))
        .replace(EXTENDED_ARABIC_INDIC_DIGIT, (c) => String.fromCharCode(0x0660 + c.charCodeAt(0) - 0x06f0));
    case "keep":
      return s;
  }
}

function foldPunctuation(s: string, style: PunctuationStyle): string {
  switch (style) {
    case "remove":
      return s.replace(PUNCTUATION_OR_SYMBOL, (c, at: number) => {
        const inNumber = DIGIT.test(s[at - 1] ?? "") && DIGIT.test(s[at + 1] ?? "");
        if (inNumber && DECIMAL_SEPARATORS.has(c)) return ".";
        if (inNumber && THOUSANDS_SEPARATORS.has(c)) return "";
        return " ";
      });
    case "latin":
      return unifyQuotes(s).replace(/[\u060C\u061B\u061F\u06D4\u066A]/gu, (c) => ARABIC_TO_LATIN_PUNCTUATION[c] ?? c);
    case "arabic":
      return unifyQuotes(s).replace(LATIN_PUNCTUATION_NOT_IN_NUMBER, (c) => LATIN_TO_ARABIC_PUNCTUATION[c] ?? c);
    case "keep":
      return s;
  }
}

function unifyQuotes(s: string): string {
  return s.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'");
}
