// The Arabic text chain: what every transcript goes through before anyone sees it, live partials and
// finals, Recognize, batch jobs, and TextService/FormatText. It works word by word on timed words, so
// word times and confidences survive; plain text goes through the same path (`formatText`).
//
// Steps, in order (each sees the output of the one before):
// 1. Letter forms: the display preset of normalize.ts (presentation forms folded, NFC, invisible format
//    controls removed), with diacritics and tatweel removed when `removeDiacritics`. A word left empty
//    (it was only marks) is dropped.
// 2. Numbers (numbers.ts): numbers spoken in words are read. Unless `verbatim`, each becomes one token
//    of digits: its words merge into one word that spans the first word's start to the last word's end,
//    with the lowest confidence of them. Punctuation around the words stays around the digits, and a
//    leading "و" stays: "وخمسة" → "و5". No thousands separators ("ألفين وعشرين" → "2020", a year).
// 3. Redaction (redaction-rules.ts): digit runs (0-9, ٠-٩, ۰-۹, numbers read in step 2 whether
//    written or kept as words, DTMF key strings, spread over adjacent words in any grouping, "+" and "-"
//    and brackets allowed) and IBANs are replaced by MASK. The words of a redacted span merge into one
//    word (times and confidence as in step 2) and the span is reported.
// 4. Profanity (profanity.ts): listed words keep their first letter, the rest become "*".
// 5. Numeral style: unless `verbatim`, every digit is written as `numeralStyle` asks (Western 0-9 or
//    Arabic-Indic ٠-٩), the ones in the input included.
// 6. Punctuation (RecognitionConfig.enable_automatic_punctuation), word by word, last so that numbers and
//    redaction (steps 2-3) still see the marks the model put between words (a comma between two numbers
//    keeps them apart). "arabic": the model's marks are kept, written the Arabic way (normalize.ts rule 12
//    "arabic": , ; ? → ، ؛ ؟ except between digits; curly quotes unified). "remove": the sentence marks
//    (SENTENCE_MARKS) at a word's edges are removed, and a word that was only marks is dropped; marks inside
//    a word (3.5, 10:30) and the keypad's * and # stay. "keep" (the default; FormatText): as written.
// Words join with one space (or a word's own `separator`, as keypad digits carry "").
import { DISPLAY_PRESET, normalizeArabic, type NormalizeOptions } from "./normalize.js";
import { readNumbers, readNumberWord, type ParserWord } from "./numbers.js";
import { isProfane, maskProfanity } from "./profanity.js";
import { classifyDigits, classifyLeftover, DEFAULT_MIN_DIGIT_COUNT, isIban, type RedactionKind } from "./redaction-rules.js";

/** What replaces a redacted span (recognition.proto, RedactionConfig). */
export const MASK = "[REDACTED]";

/** A word of a transcript. Times in any unit (the chain only copies them); confidence 0..1. */
export interface TextWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
  /** What goes before this word in the text; " " when absent. Ignored for the first word. */
  separator?: string;
}

export type NumeralStyle = "western" | "arabic-indic";

export interface RedactionOptions {
  /** The types to redact; empty: none. */
  types: readonly RedactionKind[];
  /** Shortest digit run of "digit_sequence". Default 4. */
  minDigitCount?: number;
}

/** The chain's options: RecognitionConfig's and FormatTextRequest's text fields (options.ts maps them). */
export interface TextChainOptions {
  /** Keep numbers in words (no inverse text normalisation, no numeral style). Default false. */
  verbatim?: boolean;
  /** Default "western". */
  numeralStyle?: NumeralStyle;
  /** Remove diacritics and tatweel. Default false. */
  removeDiacritics?: boolean;
  /** Unset or no types: no redaction. */
  redaction?: RedactionOptions;
  /** Mask profanities. Default false. */
  profanityFilter?: boolean;
  /** Step 6. Default "keep". */
  punctuation?: PunctuationMode;
}

/** What step 6 does to the model's punctuation (see the header). */
export type PunctuationMode = "keep" | "arabic" | "remove";

/** A span of the output that redaction replaced. */
export interface RedactedSpan {
  type: RedactionKind;
  /** Offsets of MASK in the output text, UTF-16 code units, end exclusive. */
  start: number;
  end: number;
  /** The output word that holds MASK. */
  wordIndex: number;
  /** The input words redacted: indices of the first and one past the last. */
  fromWord: number;
  toWord: number;
  /** The first input word's start and the last one's end. */
  startTime: number;
  endTime: number;
}

export interface FormattedWords<W extends TextWord> {
  /** The output words: an input word's fields, with `word`, `start`, `end`, `confidence` set by the chain. */
  words: W[];
  /** The words joined. */
  text: string;
  redactions: RedactedSpan[];
}

export interface FormattedText {
  text: string;
  redactions: Array<Pick<RedactedSpan, "type" | "start" | "end">>;
}

/** A stretch of input words that becomes one output word, or (kept number words) several. */
interface Token {
  from: number;
  to: number;
  text: string;
  /** A number kept in words: its digits for redaction, its words written as they were. */
  spoken?: { digits: string; runStart: number; runEnd: number };
  redacted?: RedactionKind;
}

const DIGIT = "[0-9\\u0660-\\u0669\\u06F0-\\u06F9]";
const DIGIT_RUN = new RegExp(`\\+?${DIGIT}+(?:[-.]${DIGIT}+)*`, "gu");
const HAS_DIGIT = new RegExp(DIGIT, "u");
const EDGE_PUNCTUATION = /^([\p{P}\p{S}]*)(.*?)([\p{P}\p{S}]*)$/su;
/** What may stand between digits of adjacent words of one run: brackets around an area code, a dash. */
const RUN_JOINER_BEFORE = /^[()[\]]*$/u;
const RUN_JOINER_AFTER = /^[()[\]\-\u2010-\u2013]*$/u;
const MAX_IBAN_WORDS = 10;
/**
 * The marks "remove" takes off a word's edges: the full stop, comma, semicolon, colon, question and
 * exclamation marks and the ellipsis, Latin and Arabic (، ؛ ؟ ۔ and the reversed question mark ⸮). Not
 * brackets, dashes, "+" or the keypad's "*" and "#", which belong to what they surround.
 */
const SENTENCE_MARKS = "[.,;:!?\\u2026\\u060C\\u061B\\u061F\\u06D4\\u2E2E]";
const EDGE_SENTENCE_MARKS = new RegExp(`^${SENTENCE_MARKS}+|${SENTENCE_MARKS}+$`, "gu");
const ARABIC_MARKS: NormalizeOptions = { ...DISPLAY_PRESET, removeTatweel: false, digits: "keep", punctuation: "arabic" };
/** The shortest and longest runs the types with a format take (redaction-rules.ts): local phones, cards. */
const FORMATTED_DIGITS = { min: 8, max: 19 };

function letterForms(removeDiacritics: boolean): NormalizeOptions {
  return { ...DISPLAY_PRESET, removeDiacritics, removeTatweel: removeDiacritics };
}

/** Arabic-Indic and Extended Arabic-Indic digits as ASCII; anything else removed. */
function asciiDigits(s: string): string {
  return normalizeArabic(s, { ...DISPLAY_PRESET, digits: "ascii" }).replace(/[^0-9]/gu, "");
}

function splitPunctuation(word: string): { lead: string; core: string; trail: string } {
  const m = EDGE_PUNCTUATION.exec(word)!;
  return { lead: m[1]!, core: m[2]!, trail: m[3]! };
}

/** Runs the chain over timed words (see the header). */
export function formatWords<W extends TextWord>(input: readonly W[], options: TextChainOptions = {}): FormattedWords<W> {
  // Step 1. `origin` maps a cleaned word back to its input index.
  const forms = letterForms(options.removeDiacritics === true);
  const words: W[] = [];
  const origin: number[] = [];
  input.forEach((w, i) => {
    const word = normalizeArabic(w.word, forms);
    if (word) {
      words.push({ ...w, word });
      origin.push(i);
    }
  });
  const verbatim = options.verbatim === true;
  let tokens = readTokens(words, verbatim);
  const types = new Set(options.redaction?.types ?? []);
  if (types.size > 0) tokens = redact(tokens, types, options.redaction?.minDigitCount ?? DEFAULT_MIN_DIGIT_COUNT);
  if (options.profanityFilter) tokens = tokens.map(maskToken);
  const digits = verbatim ? "keep" : options.numeralStyle === "arabic-indic" ? "arabic-indic" : "ascii";
  return assemble(words, origin, input, tokens, digits, options.punctuation ?? "keep");
}

/** Runs the chain over plain text: words are what whitespace separates. */
export function formatText(text: string, options: TextChainOptions = {}): FormattedText {
  const words = textWords(text);
  const out = formatWords(words, options);
  return { text: out.text, redactions: out.redactions.map(({ type, start, end }) => ({ type, start, end })) };
}

/** Plain text as words without times. */
export function textWords(text: string): TextWord[] {
  return text
    .split(/[\s\u0085]+/u)
    .filter((w) => w.length > 0)
    .map((word) => ({ word, start: 0, end: 0, confidence: 0 }));
}

/** Step 2: one token per word, numbers merged (or, verbatim, marked with their digits). */
function readTokens(words: readonly TextWord[], verbatim: boolean): Token[] {
  const parsed: ParserWord[] = words.map((w) => {
    const { lead, core, trail } = splitPunctuation(w.word);
    return { reading: readNumberWord(core), lead, trail };
  });
  const numbers = readNumbers(parsed);
  const tokens: Token[] = [];
  let next = 0;
  for (const n of numbers) {
    for (; next < n.from; next++) tokens.push({ from: next, to: next + 1, text: words[next]!.word });
    const lead = parsed[n.from]!.lead + (n.waw ? "و" : "");
    const trail = parsed[n.to - 1]!.trail;
    if (verbatim) {
      const text = words.slice(n.from, n.to).map((w) => w.word).join(" ");
      // The run is the words without the punctuation around them (and without the first word's "و").
      const runStart = parsed[n.from]!.lead.length + (n.waw ? 1 : 0);
      tokens.push({ from: n.from, to: n.to, text, spoken: { digits: n.digits, runStart, runEnd: text.length - trail.length } });
    } else {
      tokens.push({ from: n.from, to: n.to, text: lead + n.digits + trail });
    }
    next = n.to;
  }
  for (; next < words.length; next++) tokens.push({ from: next, to: next + 1, text: words[next]!.word });
  return tokens;
}

/** A digit run inside a token. */
interface Run {
  token: number;
  start: number;
  end: number;
  digits: string;
  plus: boolean;
}

function runsOf(token: Token, index: number): Run[] {
  if (token.redacted) return [];
  if (token.spoken) return [{ token: index, start: token.spoken.runStart, end: token.spoken.runEnd, digits: token.spoken.digits, plus: false }];
  if (!HAS_DIGIT.test(token.text)) return [];
  return [...token.text.matchAll(DIGIT_RUN)].map((m) => ({
    token: index,
    start: m.index,
    end: m.index + m[0].length,
    digits: asciiDigits(m[0]),
    plus: m[0].startsWith("+"),
  }));
}

/** Step 3. */
function redact(input: Token[], types: ReadonlySet<RedactionKind>, minDigits: number): Token[] {
  const tokens = types.has("bank_account") ? redactIbans(input) : input;
  // Runs chained across adjacent tokens: the last run of a token continues into the first of the next when
  // nothing but brackets or a dash stands between them.
  const groups: Run[][] = [];
  let previous: Run | undefined;
  tokens.forEach((token, i) => {
    const runs = runsOf(token, i);
    runs.forEach((run, k) => {
      const joins =
        k === 0 &&
        previous !== undefined &&
        previous.token === i - 1 &&
        RUN_JOINER_AFTER.test(tokens[i - 1]!.text.slice(previous.end)) &&
        RUN_JOINER_BEFORE.test(token.text.slice(0, run.start));
      if (joins) groups[groups.length - 1]!.push(run);
      else groups.push([run]);
    });
    previous = runs.at(-1);
  });
  const spans: Array<{ runs: Run[]; type: RedactionKind }> = [];
  for (const group of groups) spans.push(...spansOf(group, types, minDigits));
  if (spans.length === 0) return tokens;
  // Spans never share a token (runs of one token are separate groups only when text stands between them,
  // and a span ends at a run's end), so one pass in token order merges them.
  spans.sort((a, b) => a.runs[0]!.token - b.runs[0]!.token);
  const out: Token[] = [];
  let next = 0;
  for (const { runs, type } of spans) {
    const first = runs[0]!;
    const last = runs.at(-1)!;
    out.push(...tokens.slice(next, first.token));
    const head = tokens[first.token]!;
    const tail = tokens[last.token]!;
    // An opening bracket before a span that runs on past its word goes with it: "(050) 123" → MASK.
    let prefix = head.text.slice(0, first.start);
    if (runs.length > 1) prefix = prefix.replace(/[([]+$/u, "");
    out.push({ from: head.from, to: tail.to, text: prefix + MASK + tail.text.slice(last.end), redacted: type });
    next = last.token + 1;
  }
  out.push(...tokens.slice(next));
  return out;
}

/**
 * The spans to redact in one chain of runs: the longest stretches that a type with a format takes, left
 * to right; then every stretch left over that is an account number or a digit sequence.
 */
function spansOf(group: Run[], types: ReadonlySet<RedactionKind>, minDigits: number): Array<{ runs: Run[]; type: RedactionKind }> {
  const spans: Array<{ runs: Run[]; type: RedactionKind }> = [];
  const taken = new Array<boolean>(group.length).fill(false);
  for (let i = 0; i < group.length; ) {
    let found = false;
    // Stretches from run i of FORMATTED_DIGITS digits, which bounds the search on long keypad strings.
    const stretches: Array<{ to: number; digits: string }> = [];
    for (let j = i, digits = ""; j < group.length; j++) {
      digits += group[j]!.digits;
      if (digits.length > FORMATTED_DIGITS.max) break;
      if (digits.length >= FORMATTED_DIGITS.min) stretches.push({ to: j + 1, digits });
    }
    for (const { to: j, digits } of stretches.reverse()) {
      const type = classifyDigits(digits, group[i]!.plus, types);
      if (type) {
        spans.push({ runs: group.slice(i, j), type });
        taken.fill(true, i, j);
        i = j;
        found = true;
        break;
      }
    }
    if (!found) i += 1;
  }
  for (let i = 0; i < group.length; ) {
    if (taken[i]) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < group.length && !taken[j]) j += 1;
    const runs = group.slice(i, j);
    const type = classifyLeftover(runs.map((r) => r.digits).join(""), types, minDigits);
    if (type) spans.push({ runs, type });
    i = j;
  }
  return spans;
}

/** IBANs: two letters, then digits and letters, over up to MAX_IBAN_WORDS adjacent words ("SA03 8000 …"). */
function redactIbans(input: Token[]): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < input.length; ) {
    const head = splitPunctuation(input[i]!.text);
    let match = -1;
    if (!input[i]!.spoken && /^[A-Za-z]{2}\d{2}/u.test(head.core)) {
      let candidate = "";
      for (let j = i; j < Math.min(input.length, i + MAX_IBAN_WORDS); j++) {
        const part = splitPunctuation(input[j]!.text);
        if (input[j]!.spoken || (j > i && part.lead) || !/^[A-Za-z0-9]+$/u.test(part.core)) break;
        candidate += part.core;
        if (isIban(candidate)) match = j;
        if (part.trail) break;
      }
    }
    if (match < 0) {
      tokens.push(input[i]!);
      i += 1;
      continue;
    }
    const lead = head.lead;
    const trail = splitPunctuation(input[match]!.text).trail;
    tokens.push({ from: input[i]!.from, to: input[match]!.to, text: lead + MASK + trail, redacted: "bank_account" });
    i = match + 1;
  }
  return tokens;
}

/** Step 4. */
function maskToken(token: Token): Token {
  if (token.redacted || token.spoken) return token;
  const { lead, core, trail } = splitPunctuation(token.text);
  if (!core || !isProfane(core)) return token;
  return { ...token, text: lead + maskProfanity(core) + trail };
}

/** Step 6 on one output word: "" when nothing is left of it. */
function punctuate(word: string, mode: PunctuationMode): string {
  switch (mode) {
    case "keep":
      return word;
    case "arabic":
      return normalizeArabic(word, ARABIC_MARKS);
    case "remove":
      return word.replace(EDGE_SENTENCE_MARKS, "");
  }
}

/** Steps 5 and 6, and the output: words, text and spans with their offsets. */
function assemble<W extends TextWord>(
  words: readonly W[],
  origin: readonly number[],
  input: readonly W[],
  tokens: readonly Token[],
  digits: NormalizeOptions["digits"],
  punctuation: PunctuationMode,
): FormattedWords<W> {
  const style: NormalizeOptions = { ...DISPLAY_PRESET, removeTatweel: false, digits };
  const out: W[] = [];
  const redactions: RedactedSpan[] = [];
  let text = "";
  const emit = (written: W, at?: { token: Token }) => {
    // MASK has no sentence mark at its edges, so a redacted word is never emptied.
    const word = { ...written, word: punctuate(written.word, punctuation) };
    if (word.word === "") return;
    if (out.length > 0) text += word.separator ?? " ";
    if (at?.token.redacted) {
      const start = text.length + word.word.indexOf(MASK);
      const fromWord = origin[at.token.from]!;
      const toWord = origin[at.token.to - 1]! + 1;
      redactions.push({
        type: at.token.redacted,
        start,
        end: start + MASK.length,
        wordIndex: out.length,
        fromWord,
        toWord,
        startTime: input[fromWord]!.start,
        endTime: input[toWord - 1]!.end,
      });
    }
    text += word.word;
    out.push(word);
  };
  for (const token of tokens) {
    if (token.spoken && !token.redacted) {
      for (let i = token.from; i < token.to; i++) emit(words[i]!);
      continue;
    }
    const span = words.slice(token.from, token.to);
    // Digits only change where there are digits; MASK and words without digits pass as they are.
    const written = digits !== "keep" && HAS_DIGIT.test(token.text) ? normalizeArabic(token.text, style) : token.text;
    emit(
      {
        ...span[0]!,
        word: written,
        start: span[0]!.start,
        end: span.at(-1)!.end,
        confidence: span.reduce((lowest, w) => Math.min(lowest, w.confidence), Infinity),
      },
      { token },
    );
  }
  return { words: out, text, redactions };
}
