// Word and character error rates, computed the way NIST sclite (sclite 2.10 in SCTK 2.4.10, Debian's
// `sctk`) computes them, so a score stored on a job equals what `sclite` prints for the same reference
// and hypothesis.
//
// Alignment: a Levenshtein alignment with sclite's costs (correct 0, insertion 3, deletion 3,
// substitution 4; SCTK src/sclite/word.c `wwd_WORD`), not unit costs. The costs change the counts, not
// only the pairs: for ref "a b" / hyp "b a", unit costs tie 2 substitutions with 1 deletion + 1
// insertion; sclite's costs (8 against 6) choose the deletion and insertion. Where costs tie, each
// cell prefers a diagonal step (correct or substitution), and between a deletion and an insertion of
// equal cost takes the insertion; the path is traced back from the last cell. That is sclite's
// `calculate_internal_cells` in net_dp.c, so the pairs, not just the counts, match sclite's.
//
// Tokens: words are whitespace-separated. Characters follow `sclite -c NOASCII`: spaces are not
// tokens (a merged or split word costs only its letters), every non-ASCII code point is a token, and a
// run of ASCII characters inside a word stays one token ("abcكتب" → abc, ك, ت, ب; "2024" is one token).
// With `asciiRunsAsTokens: false` every code point is a token, as with plain `sclite -c`.
//
// Comparison is exact (case-sensitive); sclite folds case unless given `-s`. The scoring preset
// lower-cases, so after normalisation the two agree.

import { InvalidArgumentError } from "../platform/errors/errors.js";
import { normalizeArabic } from "./normalize.js";
import type { NormalizeSpec } from "./normalize.js";

export type EditOp = "correct" | "substitution" | "deletion" | "insertion";

/** One step of an alignment; `ref` is null for an insertion, `hyp` for a deletion. */
export interface AlignedPair {
  op: EditOp;
  ref: string | null;
  hyp: string | null;
}

export interface ErrorCounts {
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** N, the number of reference tokens (correct + substitutions + deletions). */
  referenceLength: number;
}

export interface Alignment extends ErrorCounts {
  pairs: AlignedPair[];
}

export type ScoreUnit = "word" | "character";

export interface ScoreResult extends Alignment {
  unit: ScoreUnit;
  /**
   * (S + D + I) / N. 0 when both sides are empty; null when the reference is empty and the hypothesis
   * is not: the rate is undefined (sclite prints 0.0 there, which hides the insertions it counted).
   */
  errorRate: number | null;
  /** The normalised texts that were scored. */
  reference: string;
  hypothesis: string;
}

export interface ScoreOptions {
  /** The normaliser preset or options applied to both texts first; false scores the texts as given. */
  normalize?: NormalizeSpec | false;
  /** Character scoring only: keep runs of ASCII characters as one token, as `sclite -c NOASCII` does. */
  asciiRunsAsTokens?: boolean;
}

/**
 * The reference × hypothesis cell count above which alignment is refused, to bound the time one call
 * can take: about 5 ns a cell on one build-machine core, so some 10 s at the limit (e.g. 44,000
 * characters against 44,000, an hour of speech); 30,000 × 30,000 took 4 s and 120 MB.
 */
export const MAX_ALIGNMENT_CELLS = 2_000_000_000;

const COST_INSERTION = 3;
const COST_DELETION = 3;
const COST_SUBSTITUTION = 4;

const BACK_DIAGONAL = 0;
const BACK_DELETION = 1;
const BACK_INSERTION = 2;

/**
 * Aligns two token sequences with sclite's costs and tie-breaking.
 *
 * Memory is O(√n·m) rather than O(n·m): the forward pass keeps every √n-th row of
 * costs, and the trace back recomputes one band of √n rows at a time with its back pointers. The back
 * pointers are a function of the costs alone, so the path is exactly the one a full matrix gives.
 */
export function alignTokens(ref: readonly string[], hyp: readonly string[]): Alignment {
  const n = ref.length;
  const m = hyp.length;
  const width = m + 1;
  if ((n + 1) * width > MAX_ALIGNMENT_CELLS) {
    throw new InvalidArgumentError(
      "reference",
      `too long to align in one piece (${n} × ${m} tokens); score it segment by segment`,
    );
  }
  const { refIds, hypIds } = intern(ref, hyp);
  const band = Math.max(1, Math.ceil(Math.sqrt(n)));
  let previous = new Int32Array(width);
  let current = new Int32Array(width);
  for (let j = 1; j <= m; j++) previous[j] = previous[j - 1]! + COST_INSERTION;
  const checkpoints = [previous.slice()]; // checkpoints[k] is row k·band
  for (let i = 1; i <= n; i++) {
    fillRow(previous, current, refIds[i - 1]!, hypIds, null);
    [previous, current] = [current, previous];
    if (i % band === 0) checkpoints.push(previous.slice());
  }

  const pairs: AlignedPair[] = [];
  const counts: ErrorCounts = { correct: 0, substitutions: 0, deletions: 0, insertions: 0, referenceLength: n };
  const back = new Uint8Array(band * width);
  let i = n;
  let j = m;
  while (i > 0) {
    // Recompute rows first+1 … i of this band from its checkpoint, keeping their back pointers.
    const k = Math.floor((i - 1) / band);
    const first = k * band;
    previous.set(checkpoints[k]!);
    for (let r = first + 1; r <= i; r++) {
      fillRow(previous, current, refIds[r - 1]!, hypIds, back.subarray((r - first - 1) * width, (r - first) * width));
      [previous, current] = [current, previous];
    }
    while (i > first) {
      const step = back[(i - first - 1) * width + j];
      if (step === BACK_DIAGONAL) {
        const r = ref[i - 1]!;
        const h = hyp[j - 1]!;
        const op = refIds[i - 1] === hypIds[j - 1] ? "correct" : "substitution";
        if (op === "correct") counts.correct++;
        else counts.substitutions++;
        pairs.push({ op, ref: r, hyp: h });
        i--;
        j--;
      } else if (step === BACK_DELETION) {
        counts.deletions++;
        pairs.push({ op: "deletion", ref: ref[i - 1]!, hyp: null });
        i--;
      } else {
        counts.insertions++;
        pairs.push({ op: "insertion", ref: null, hyp: hyp[j - 1]! });
        j--;
      }
    }
  }
  for (; j > 0; j--) {
    counts.insertions++;
    pairs.push({ op: "insertion", ref: null, hyp: hyp[j - 1]! });
  }
  pairs.reverse();
  return { ...counts, pairs };
}

/**
 * One row of the cost matrix: `current` from `previous` for reference token `r`. On equal costs a cell
 * prefers the diagonal, and an insertion over a deletion (sclite's order). Column 0 is a deletion.
 */
function fillRow(previous: Int32Array, current: Int32Array, r: number, hypIds: Int32Array, back: Uint8Array | null): void {
  current[0] = previous[0]! + COST_DELETION;
  if (back) back[0] = BACK_DELETION;
  for (let j = 1; j < current.length; j++) {
    const diagonal = previous[j - 1]! + (r === hypIds[j - 1] ? 0 : COST_SUBSTITUTION);
    const deletion = previous[j]! + COST_DELETION;
    const insertion = current[j - 1]! + COST_INSERTION;
    let cost: number;
    let step: number;
    if (diagonal <= deletion && diagonal <= insertion) {
      cost = diagonal;
      step = BACK_DIAGONAL;
    } else if (deletion < insertion) {
      cost = deletion;
      step = BACK_DELETION;
    } else {
      cost = insertion;
      step = BACK_INSERTION;
    }
    current[j] = cost;
    if (back) back[j] = step;
  }
}

/** Numbers the distinct tokens so the inner loop compares integers. */
function intern(ref: readonly string[], hyp: readonly string[]): { refIds: Int32Array; hypIds: Int32Array } {
  const ids = new Map<string, number>();
  const idOf = (token: string) => {
    let id = ids.get(token);
    if (id === undefined) {
      id = ids.size;
      ids.set(token, id);
    }
    return id;
  };
  return { refIds: Int32Array.from(ref, idOf), hypIds: Int32Array.from(hyp, idOf) };
}

/** Whitespace-separated words. */
export function wordTokens(text: string): string[] {
  return text.split(/\s+/u).filter((w) => w.length > 0);
}

/** Character tokens, spaces excluded (see the top of this file for `asciiRunsAsTokens`). */
export function characterTokens(text: string, asciiRunsAsTokens = true): string[] {
  const tokens: string[] = [];
  for (const word of wordTokens(text)) {
    if (asciiRunsAsTokens) {
      for (const match of word.matchAll(/[\x00-\x7F]+|[^\x00-\x7F]/gu)) tokens.push(match[0]);
    } else {
      tokens.push(...word);
    }
  }
  return tokens;
}

export function errorRate(counts: ErrorCounts): number | null {
  const errors = counts.substitutions + counts.deletions + counts.insertions;
  if (counts.referenceLength === 0) return errors === 0 ? 0 : null;
  return errors / counts.referenceLength;
}

/** Scores one hypothesis against its reference, by words or by characters. */
export function score(reference: string, hypothesis: string, unit: ScoreUnit, options: ScoreOptions = {}): ScoreResult {
  const spec = options.normalize ?? "scoring";
  const ref = spec === false ? reference : normalizeArabic(reference, spec);
  const hyp = spec === false ? hypothesis : normalizeArabic(hypothesis, spec);
  const tokens =
    unit === "word"
      ? (t: string) => wordTokens(t)
      : (t: string) => characterTokens(t, options.asciiRunsAsTokens ?? true);
  const alignment = alignTokens(tokens(ref), tokens(hyp));
  return { ...alignment, unit, errorRate: errorRate(alignment), reference: ref, hypothesis: hyp };
}

export function wordErrorRate(reference: string, hypothesis: string, options?: ScoreOptions): ScoreResult {
  return score(reference, hypothesis, "word", options);
}

export function characterErrorRate(reference: string, hypothesis: string, options?: ScoreOptions): ScoreResult {
  return score(reference, hypothesis, "character", options);
}

export interface UtterancePair {
  id: string;
  reference: string;
  hypothesis: string;
}

export interface CorpusScore extends ErrorCounts {
  unit: ScoreUnit;
  /** Total errors over total reference tokens, as sclite's Sum/Avg line. */
  errorRate: number | null;
  utterances: Array<ScoreResult & { id: string }>;
}

/** Scores many utterances and sums their counts (a corpus WER is not the mean of utterance WERs). */
export function scoreCorpus(pairs: Iterable<UtterancePair>, unit: ScoreUnit, options?: ScoreOptions): CorpusScore {
  const total: ErrorCounts = { correct: 0, substitutions: 0, deletions: 0, insertions: 0, referenceLength: 0 };
  const utterances: CorpusScore["utterances"] = [];
  for (const pair of pairs) {
    const result = score(pair.reference, pair.hypothesis, unit, options);
    total.correct += result.correct;
    total.substitutions += result.substitutions;
    total.deletions += result.deletions;
    total.insertions += result.insertions;
    total.referenceLength += result.referenceLength;
    utterances.push({ id: pair.id, ...result });
  }
  return { ...total, unit, errorRate: errorRate(total), utterances };
}
