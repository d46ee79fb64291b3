// The chain's options from the contract's fields: RecognitionConfig (live, Recognize, batch) and
// FormatTextRequest carry the same five, so one mapping serves them all. The gateway's protovalidate
// rules reject these values first; the checks here hold for callers that build a config in-process
// (the batch worker reads configs stored with jobs), and name the field like the validator does.
import {
  NumeralStyle,
  RedactionType,
  type ArabicTextConfig,
  type RedactionConfig,
} from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import type { TextChainOptions } from "./chain.js";
import { DEFAULT_MIN_DIGIT_COUNT, type RedactionKind } from "./redaction-rules.js";

/** The text fields of RecognitionConfig and FormatTextRequest. */
export interface TextFields {
  verbatim: boolean;
  profanityFilter: boolean;
  arabicTextConfig?: ArabicTextConfig;
  redactionConfig?: RedactionConfig;
  /**
   * RecognitionConfig's: true keeps the model's punctuation with Arabic marks, false removes it. FormatText
   * has no such field (its text is the caller's, punctuation kept where it stands): left out, kept as is.
   */
  enableAutomaticPunctuation?: boolean;
}

const KINDS: Partial<Record<RedactionType, RedactionKind>> = {
  [RedactionType.PAYMENT_CARD]: "payment_card",
  [RedactionType.NATIONAL_ID]: "national_id",
  [RedactionType.PHONE_NUMBER]: "phone_number",
  [RedactionType.BANK_ACCOUNT]: "bank_account",
  [RedactionType.DIGIT_SEQUENCE]: "digit_sequence",
};

/** The contract's enum value of a redaction kind (for spans in responses). */
export function redactionTypeOf(kind: RedactionKind): RedactionType {
  const found = Object.entries(KINDS).find(([, k]) => k === kind);
  return Number(found![0]) as RedactionType;
}

/** 3 to 20; 0 means DEFAULT_MIN_DIGIT_COUNT (recognition.proto). */
const MIN_DIGIT_COUNT_RANGE = { min: 3, max: 20 };
const MAX_REDACTION_TYPES = 5;

/**
 * The chain's options. Throws InvalidArgumentError naming the field (under `prefix`, e.g. "config.") for
 * an unknown numeral style or redaction type, a repeated or missing type, or a count out of range.
 */
export function textChainOptions(fields: TextFields, prefix = ""): TextChainOptions {
  const style = fields.arabicTextConfig?.numeralStyle ?? NumeralStyle.UNSPECIFIED;
  if (!(style in NumeralStyle)) {
    throw new InvalidArgumentError(`${prefix}arabic_text_config.numeral_style`, `unknown numeral style ${style}`);
  }
  return {
    verbatim: fields.verbatim,
    profanityFilter: fields.profanityFilter,
    removeDiacritics: fields.arabicTextConfig?.removeDiacritics ?? false,
    numeralStyle: style === NumeralStyle.ARABIC_INDIC ? "arabic-indic" : "western",
    redaction: fields.redactionConfig ? redactionOptions(fields.redactionConfig, `${prefix}redaction_config`) : undefined,
    punctuation: fields.enableAutomaticPunctuation === undefined ? "keep" : fields.enableAutomaticPunctuation ? "arabic" : "remove",
  };
}

function redactionOptions(config: RedactionConfig, field: string): NonNullable<TextChainOptions["redaction"]> {
  const { types, minDigitCount } = config;
  if (types.length < 1 || types.length > MAX_REDACTION_TYPES) {
    throw new InvalidArgumentError(`${field}.types`, `give 1 to ${MAX_REDACTION_TYPES} redaction types`);
  }
  if (new Set(types).size !== types.length) throw new InvalidArgumentError(`${field}.types`, "a redaction type is repeated");
  const kinds = types.map((t) => {
    const kind = KINDS[t];
    if (!kind) throw new InvalidArgumentError(`${field}.types`, `unknown redaction type ${t}`);
    return kind;
  });
  if (minDigitCount !== 0 && (minDigitCount < MIN_DIGIT_COUNT_RANGE.min || minDigitCount > MIN_DIGIT_COUNT_RANGE.max)) {
    throw new InvalidArgumentError(`${field}.min_digit_count`, `must be ${MIN_DIGIT_COUNT_RANGE.min} to ${MIN_DIGIT_COUNT_RANGE.max}, or 0 for ${DEFAULT_MIN_DIGIT_COUNT}`);
  }
  return { types: kinds, minDigitCount: minDigitCount || DEFAULT_MIN_DIGIT_COUNT };
}
