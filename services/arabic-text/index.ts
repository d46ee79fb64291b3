// Arabic text for the platform: one normaliser (display and scoring presets), WER/CER that equal NIST
// sclite's, and the text chain every transcript goes through (chain.ts: numbers, redaction, profanity) with
// its streaming form (streaming.ts) and TextService/FormatText (handler.ts).

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
export { formatWords, formatText, textWords, MASK } from "./chain.js";
export type { TextWord, TextChainOptions, NumeralStyle, RedactionOptions, RedactedSpan, FormattedWords, FormattedText } from "./chain.js";
export { StreamingRedactor, carriesDigits } from "./streaming.js";
export type { PartialWords, PartialText } from "./streaming.js";
export { phraseHintsOf, promptWithHints, boostWords, type PhraseHintSet, type PhraseHint } from "./phrase-hints.js";
export { textChainOptions, redactionTypeOf } from "./options.js";
export type { TextFields } from "./options.js";
export type { RedactionKind } from "./redaction-rules.js";
export { DEFAULT_MIN_DIGIT_COUNT } from "./redaction-rules.js";
export { textHandler, MAX_FORMAT_TEXT_CHARS } from "./handler.js";
