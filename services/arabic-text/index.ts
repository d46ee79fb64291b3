// Arabic text for the platform: one normaliser (display and scoring presets) and WER/CER that equal
// NIST sclite's. See normalize.ts for the rules and score.ts for the alignment.

export {
  normalizeArabic,
  resolveNormalizeOptions,
  SCORING_PRESET,
  DISPLAY_PRESET,
  NORMALIZE_PRESETS,
} from "./normalize.js";
export type { NormalizeOptions, NormalizeSpec, NormalizePresetName, DigitStyle, PunctuationStyle } from "./normalize.js";
export {
  score,
  scoreCorpus,
  wordErrorRate,
  characterErrorRate,
  alignTokens,
  wordTokens,
  characterTokens,
  errorRate,
  MAX_ALIGNMENT_CELLS,
} from "./score.js";
export type {
  EditOp,
  AlignedPair,
  ErrorCounts,
  Alignment,
  ScoreUnit,
  ScoreResult,
  ScoreOptions,
  UtterancePair,
  CorpusScore,
} from "./score.js";
