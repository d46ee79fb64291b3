// The text chain for live recognition, where an utterance arrives as successive interim hypotheses and
// then a final. Redaction cannot judge a digit run that may still grow: "0 5 5" is nothing yet, and
// becomes a phone number two partials later. So, when redaction is on, an interim result is shown without
// its trailing run of digit-bearing words (digits, number words, "و" and DTMF keys at its end), until a
// word that cannot carry digits follows it or the final comes; the final is formatted whole. A partial
// therefore never shows digits that the final would redact, even when they straddle two partials.
//
// One instance per stream, built from the stream's config: `partial` for each interim hypothesis (the whole
// hypothesis of the utterance so far, not a delta), `final` for the final one. It keeps no state between
// calls, so channels and utterances may share it. Without redaction nothing is held back and `partial`
// formats like `final`.
//
// Not covered: a run split across two finals (an endpoint in the middle of a number). Each final is
// judged alone, so the second half is redacted only if it is redactable by itself.
import { formatWords, textWords, type FormattedText, type FormattedWords, type TextChainOptions, type TextWord } from "./chain.js";
import { readNumberWord } from "./numbers.js";

const DIGIT_OR_KEY = /[0-9\u0660-\u0669\u06F0-\u06F9*#]/u;
const PUNCTUATION_EDGES = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;

/** Whether a word could be part of a digit run that continues into the next words. */
export function carriesDigits(word: string): boolean {
  if (DIGIT_OR_KEY.test(word)) return true;
  const core = word.replace(PUNCTUATION_EDGES, "");
  if (!core) return false;
  const reading = readNumberWord(core);
  return reading.entry !== undefined || reading.lone;
}

export type PartialWords<W extends TextWord> = FormattedWords<W> & {
  /** How many input words at the end were held back (not in `words` or `text`). */
  heldBack: number;
};

export type PartialText = FormattedText & { heldBack: number };

export class StreamingRedactor {
  private readonly holds: boolean;

  constructor(private readonly options: TextChainOptions) {
    this.holds = (options.redaction?.types.length ?? 0) > 0;
  }

  /** An interim hypothesis of the current utterance: what is safe to show now. */
  partial<W extends TextWord>(words: readonly W[]): PartialWords<W> {
    let keep = words.length;
    if (this.holds) while (keep > 0 && carriesDigits(words[keep - 1]!.word)) keep -= 1;
    return { ...formatWords(words.slice(0, keep), this.options), heldBack: words.length - keep };
  }

  /** The final hypothesis of the current utterance: formatted whole, nothing held back. */
  final<W extends TextWord>(words: readonly W[]): FormattedWords<W> {
    return formatWords(words, this.options);
  }

  /** `partial` for plain text (words are what whitespace separates). */
  partialText(text: string): PartialText {
    const out = this.partial(textWords(text));
    return { text: out.text, redactions: out.redactions.map(({ type, start, end }) => ({ type, start, end })), heldBack: out.heldBack };
  }

  /** `final` for plain text. */
  finalText(text: string): FormattedText {
    const out = this.final(textWords(text));
    return { text: out.text, redactions: out.redactions.map(({ type, start, end }) => ({ type, start, end })) };
  }
}
