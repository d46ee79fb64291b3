// The language of a request that names none, and how a language tag meets the tags a model serves.
// Live recognition, Recognize, batch jobs, transcripts and organisations all read the default here.

/** recognition.proto, language_code: 'Default "ar"' (any Arabic, dialect detected). */
export const DEFAULT_LANGUAGE_CODE = "ar";

/** `code`, or the default language when it is empty or absent. */
export function languageOrDefault(code: string | undefined | null): string {
  return code || DEFAULT_LANGUAGE_CODE;
}

/** The language subtag of a BCP-47 tag: "ar-EG" → "ar". */
export function baseLanguage(tag: string): string {
  return tag.split("-")[0]!;
}

/**
 * Whether a model that lists `served` serves `tag`: listed itself, or its language is ("ar-IQ" is
 * served by a model of "ar", with dialect-tuned decoding only where the model lists the region).
 */
export function servesLanguage(served: readonly string[], tag: string): boolean {
  return served.includes(tag) || served.includes(baseLanguage(tag));
}
