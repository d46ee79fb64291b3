// Profanity masking: a word of the list (profanity-words.ts) keeps its first letter and every other
// letter becomes "*": "shit" → "s***". Words are compared in the scoring form of normalize.ts, so letter
// forms, diacritics, tatweel and case do not hide a word, and with the prefixes و، ف، ال، وال، يا removed.
import { PROFANITY_WORDS } from "./profanity-words.js";
import { foldWord } from "./numbers.js";

const LIST: ReadonlySet<string> = new Set(PROFANITY_WORDS.map(foldWord));
/** Longest first, so "وال" is tried before "و". */
const PREFIXES = ["وال", "يا", "ال", "و", "ف"].map(foldWord);

/** Whether `core` (a word without its punctuation) is on the list. */
export function isProfane(core: string): boolean {
  const folded = foldWord(core);
  if (LIST.has(folded)) return true;
  return PREFIXES.some((p) => folded.startsWith(p) && LIST.has(folded.slice(p.length)));
}

/** `core` with its first letter kept and the rest (counted in code points) as "*". */
export function maskProfanity(core: string): string {
  const letters = [...core];
  return letters[0] + "*".repeat(letters.length - 1);
}
