// Phrase hints (RecognitionConfig.phrase_hints): words a caller wants recognised as they spell them.
// Whisper cannot be biased token by token through either backend (whisper.cpp's binding and
// transformers' generate() take no logit bias per request), so hints act twice:
//   1. as the decoder's initial prompt (`promptOf`): Whisper continues the style and spelling of the text
//      before the audio, so names it has seen there come out spelled that way;
//   2. after recognition (`boostWords`), deterministically: a run of recognised words whose normalised
//      letters lie within a few edits of a hint is rewritten as the hint. How many edits is the boost's
//      say: 0 edits at boost 0, up to a third of the hint's letters at boost 20.
// Both read the one normaliser (normalize.ts, scoring preset), so alef, hamza, taa marbuta and diacritic
// variants are never counted as edits.
import type { Phrase, PhraseHints } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { normalizeArabic } from "./normalize.js";

/** recognition.proto's limits, checked again here for configs built in-process (stored batch configs). */
export const MAX_PHRASES = 1000;
export const MAX_PHRASE_CHARS = 100;
/** A hint longer than this many words is a sentence, not a phrase: refused, since it would be matched loosely over many words. */
export const MAX_PHRASE_WORDS = 8;
export const MAX_BOOST = 20;
/** The boost of a phrase that names none in a list that names none (recognition.proto). */
export const DEFAULT_BOOST = 10;
/**
 * Characters of hints in the prompt. Whisper keeps at most 223 prompt tokens (half its 448-token context)
 * and drops the oldest first; Arabic runs about two characters a token in its byte-level vocabulary, and
 * the live engine adds up to 200 characters of confirmed text after the hints. Hints past this length
 * (the weakest, as they are ordered by boost) are still applied after recognition.
 */
export const PROMPT_MAX_CHARS = 240;
/** Share of a hint's letters that may differ at the highest boost. */
const MAX_EDIT_SHARE = 1 / 3;
/** Hints shorter than this (normalised letters) are only ever matched exactly: a short word is too near too many others. */
const MIN_FUZZY_LETTERS = 4;

export interface PhraseHint {
  /** As the transcript should show it, words separated by one space. */
  value: string;
  words: string[];
  /** 0 to 20. */
  boost: number;
  /** Normalised letters, spaces removed: what recognised words are compared with. */
  key: string;
}

export interface PhraseHintSet {
  phrases: PhraseHint[];
  /** The decoder prompt: the phrases, strongest first, within PROMPT_MAX_CHARS. */
  prompt: string;
}

/** The shape of PhraseHints that both a proto message and a stored JSON config have. */
export type PhraseHintFields = Pick<PhraseHints, "boost"> & { phrases: readonly Pick<Phrase, "value" | "boost">[] };

/**
 * The hints of a config, checked: a bad one is INVALID_ARGUMENT naming `<prefix>phrase_hints…`. Undefined
 * when there are none.
 */
export function phraseHintsOf(hints: PhraseHintFields | undefined, prefix = ""): PhraseHintSet | undefined {
  if (!hints || hints.phrases.length === 0) return undefined;
  const field = `${prefix}phrase_hints`;
  if (hints.phrases.length > MAX_PHRASES) throw new InvalidArgumentError(`${field}.phrases`, `has ${hints.phrases.length} phrases; at most ${MAX_PHRASES}`);
  const listBoost = checkBoost(hints.boost, `${field}.boost`);
  const phrases: PhraseHint[] = [];
  const seen = new Set<string>();
  hints.phrases.forEach((phrase, i) => {
    const at = `${field}.phrases[${i}]`;
    const value = phrase.value.trim().replace(/\s+/gu, " ");
    if (value === "") throw new InvalidArgumentError(`${at}.value`, "is empty; a phrase needs 1 to 100 characters");
    if ([...phrase.value].length > MAX_PHRASE_CHARS) throw new InvalidArgumentError(`${at}.value`, `is longer than ${MAX_PHRASE_CHARS} characters`);
    const words = value.split(" ");
    if (words.length > MAX_PHRASE_WORDS) throw new InvalidArgumentError(`${at}.value`, `has ${words.length} words; a phrase has at most ${MAX_PHRASE_WORDS}`);
    const key = keyOf(value);
    if (key === "") throw new InvalidArgumentError(`${at}.value`, "has no letters or digits");
    const boost = checkBoost(phrase.boost, `${at}.boost`) || listBoost || DEFAULT_BOOST;
    if (seen.has(key)) return;
    seen.add(key);
    phrases.push({ value, words, boost, key });
  });
  return { phrases, prompt: promptOf(phrases) };
}

function checkBoost(boost: number, field: string): number {
  if (!Number.isFinite(boost) || boost < 0 || boost > MAX_BOOST) throw new InvalidArgumentError(field, `must be between 0 and ${MAX_BOOST}`);
  return boost;
}

/** The phrases strongest first (in the caller's order on ties), joined by Arabic commas, within PROMPT_MAX_CHARS. */
export function promptOf(phrases: readonly PhraseHint[]): string {
  const ordered = phrases.map((p, i) => ({ p, i })).sort((a, b) => b.p.boost - a.p.boost || a.i - b.i);
  let prompt = "";
  for (const { p } of ordered) {
    const next = prompt === "" ? p.value : `${prompt}، ${p.value}`;
    if ([...next].length > PROMPT_MAX_CHARS) continue;
    prompt = next;
  }
  return prompt;
}

/** The prompt for one decode: the hints, then the text the decoder should continue (which Whisper keeps when it must cut). */
export function promptWithHints(hints: PhraseHintSet | undefined, prompt: string | undefined): string | undefined {
  const parts = [hints?.prompt, prompt].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join(" ") : undefined;
}

const keyOf = (text: string) => normalizeArabic(text, "scoring").replace(/\s+/gu, "");

/** A recognised word: its text and times; any other fields are kept. */
export interface HintedWord {
  word: string;
  start: number;
  end: number;
}

/** Edits a hint of `letters` normalised letters tolerates at `boost`. */
export function allowedEdits(letters: number, boost: number): number {
  if (letters < MIN_FUZZY_LETTERS) return 0;
  return Math.floor(letters * MAX_EDIT_SHARE * (boost / MAX_BOOST) + 1e-9);
}

interface Match {
  hint: PhraseHint;
  /** Recognised words it replaces. */
  span: number;
  edits: number;
  /** Letters the recognised run has more or fewer than the hint. */
  skew: number;
}

/**
 * `words` with every run that a hint matches rewritten as the hint, left to right, runs not overlapping.
 * A run is the hint's word count, or one fewer or one more (Whisper splits and joins names); at each
 * position the closest hint wins (fewest edits, then the nearest in length, then the higher boost, then the longer).
 * A rewritten run keeps its first word's other fields and spans the run's times, shared among the
 * hint's words by their lengths. Words the hints do not match are returned as they are.
 */
export function boostWords<W extends HintedWord>(words: readonly W[], hints: PhraseHintSet | undefined): W[] {
  if (!hints || hints.phrases.length === 0 || words.length === 0) return [...words];
  const keys = words.map((w) => keyOf(w.word));
  const out: W[] = [];
  for (let i = 0; i < words.length; ) {
    const match = bestMatch(keys, i, hints.phrases);
    if (!match) {
      out.push(words[i]!);
      i++;
      continue;
    }
    out.push(...rewrite(words.slice(i, i + match.span), match.hint));
    i += match.span;
  }
  return out;
}

function bestMatch(keys: readonly string[], at: number, phrases: readonly PhraseHint[]): Match | undefined {
  // A word with no letters (a pause mark, a lone digit run the chain will read) never starts a match.
  if (keys[at] === "") return undefined;
  let best: Match | undefined;
  for (const hint of phrases) {
    const budget = allowedEdits(hint.key.length, hint.boost);
    for (const span of new Set([hint.words.length, hint.words.length - 1, hint.words.length + 1])) {
      if (span < 1 || at + span > keys.length) continue;
      const said = keys.slice(at, at + span).join("");
      if (Math.abs(said.length - hint.key.length) > budget) continue;
      const edits = boundedEditDistance(said, hint.key, budget);
      if (edits > budget) continue;
      const candidate = { hint, span, edits, skew: Math.abs(said.length - hint.key.length) };
      if (!best || better(candidate, best)) best = candidate;
    }
  }
  return best;
}

function better(a: Match, b: Match): boolean {
  if (a.edits !== b.edits) return a.edits < b.edits;
  if (a.skew !== b.skew) return a.skew < b.skew;
  if (a.hint.boost !== b.hint.boost) return a.hint.boost > b.hint.boost;
  return a.hint.key.length > b.hint.key.length;
}

function rewrite<W extends HintedWord>(run: readonly W[], hint: PhraseHint): W[] {
  const first = run[0]!;
  const lead = /^\s*/u.exec(first.word)![0];
  // Punctuation Whisper wrote after the run ("فودافوم،") stays after the hint.
  const tail = TRAILING_MARKS.exec(run[run.length - 1]!.word.trimEnd())?.[0] ?? "";
  const last = hint.words.length - 1;
  const written = (k: number) => (k === last && !hint.words[k]!.endsWith(tail) ? hint.words[k]! + tail : hint.words[k]!);
  if (run.length === hint.words.length) {
    return run.map((w, k) => ({ ...w, word: `${/^\s*/u.exec(w.word)![0]}${written(k)}` }));
  }
  const start = first.start;
  const end = run[run.length - 1]!.end;
  const total = hint.words.reduce((n, w) => n + [...w].length, 0);
  let at = start;
  return hint.words.map((_, k) => {
    const to = k === last ? end : at + ((end - start) * [...hint.words[k]!].length) / total;
    const out = { ...first, word: `${k === 0 ? lead : lead === "" ? "" : " "}${written(k)}`, start: round3(at), end: round3(to) };
    at = to;
    return out;
  });
}

const TRAILING_MARKS = /[\p{P}\p{S}]+$/u;
const round3 = (t: number) => Math.round(t * 1000) / 1000;

/** Levenshtein distance of `a` and `b` by code point, or `limit + 1` as soon as it must exceed `limit` (a band of 2·limit+1 cells per row). */
export function boundedEditDistance(a: string, b: string, limit: number): number {
  const x = [...a];
  const y = [...b];
  if (Math.abs(x.length - y.length) > limit) return limit + 1;
  const INF = limit + 1;
  let previous = new Array<number>(y.length + 1).fill(INF);
  for (let j = 0; j <= Math.min(y.length, limit); j++) previous[j] = j;
  for (let i = 1; i <= x.length; i++) {
    const current = new Array<number>(y.length + 1).fill(INF);
    if (i <= limit) current[0] = i;
    let rowMin = current[0]!;
    for (let j = Math.max(1, i - limit); j <= Math.min(y.length, i + limit); j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current[j] = Math.min(INF, previous[j - 1]! + cost, previous[j]! + 1, current[j - 1]! + 1);
      rowMin = Math.min(rowMin, current[j]!);
    }
    if (rowMin > limit) return INF;
    previous = current;
  }
  return Math.min(INF, previous[y.length]!);
}
