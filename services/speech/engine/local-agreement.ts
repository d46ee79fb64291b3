// LocalAgreement-2 (Macháček et al., "Turning Whisper into Real-Time Transcription System", 2023):
// the utterance is decoded again at every step, and a word is confirmed once two consecutive
// hypotheses agree on it and on everything before it. Confirmed words never change; the rest of the
// latest hypothesis is tentative.
//
// Hypotheses come in stream time. The decoded buffer may still hold audio of words already
// confirmed (before it is trimmed), so a hypothesis word whose middle lies before the end of the
// last confirmed word is taken as a re-recognition of confirmed audio and skipped.

/** A recognised word, times in seconds from the start of the stream. */
export interface TimedWord {
  word: string;
  start: number;
  end: number;
  /** 0..1, as the model reports it. */
  probability: number;
  /** What goes between this word and the one before it in a transcript: " " for whisper, "" for keypad digits. */
  separator: string;
  /** Who said it ("S1", ...), on finals of a diarized stream (services/speech/diarization.ts). */
  speaker?: string;
}

export interface AgreementStep {
  /** Words confirmed by this hypothesis, in order. */
  confirmed: TimedWord[];
  /** The rest of this hypothesis, still tentative. */
  tentative: TimedWord[];
}

/** Comparison key of a word: punctuation and case do not make two hypotheses disagree. */
export function wordKey(word: string): string {
  return word.normalize("NFC").replace(/[\p{P}\p{S}]/gu, "").toLowerCase();
}

export class LocalAgreement {
  private readonly confirmedWords: TimedWord[] = [];
  private previous: TimedWord[] = [];

  /** Every confirmed word, in order. */
  get confirmed(): readonly TimedWord[] {
    return this.confirmedWords;
  }

  /** The tentative words of the latest hypothesis. */
  get tentative(): readonly TimedWord[] {
    return this.previous;
  }

  /** End of the last confirmed word in stream seconds; 0 before any. */
  get confirmedEnd(): number {
    return this.confirmedWords.at(-1)?.end ?? 0;
  }

  /** Takes the next hypothesis of the whole buffer and confirms what it and the previous one agree on. */
  insert(hypothesis: readonly TimedWord[]): AgreementStep {
    const fresh = this.afterConfirmed(hypothesis);
    let agreed = 0;
    while (agreed < fresh.length && agreed < this.previous.length && wordKey(fresh[agreed]!.word) === wordKey(this.previous[agreed]!.word)) {
      agreed++;
    }
    const confirmed = fresh.slice(0, agreed);
    this.confirmedWords.push(...confirmed);
    this.previous = fresh.slice(agreed);
    return { confirmed, tentative: [...this.previous] };
  }

  /**
   * Confirms everything at the end of an utterance: the words of `last` (the final decode of the
   * buffer) that come after the confirmed ones, or the latest tentative words when there is none.
   * Returns the words it confirmed.
   */
  flush(last?: readonly TimedWord[]): TimedWord[] {
    const rest = last ? this.afterConfirmed(last) : this.previous;
    this.confirmedWords.push(...rest);
    this.previous = [];
    return [...rest];
  }

  private afterConfirmed(hypothesis: readonly TimedWord[]): TimedWord[] {
    const end = this.confirmedEnd;
    if (this.confirmedWords.length === 0) return [...hypothesis];
    return hypothesis.filter((w) => (w.start + w.end) / 2 >= end);
  }
}

/** The transcript of words, each joined to the one before it by its own separator. */
export function joinWords(words: readonly TimedWord[]): string {
  return words.map((w, i) => (i === 0 ? w.word : w.separator + w.word)).join("");
}
