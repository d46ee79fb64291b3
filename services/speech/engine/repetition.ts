// Whisper's repetition loops: on unclear audio the decoder can fall into repeating a word or a
// phrase until the window ends ("شكرا شكرا شكرا شكرا ..."). A hypothesis is cut where a run of
// one to four words repeats back to back more than `maxRepeats` times, keeping the repeats
// allowed; natural speech repeats a phrase two or three times at most. Speech models only: a
// keypad sequence such as "1111" is what was dialled.
import { wordKey, type TimedWord } from "./local-agreement.js";

export function cutRepetitionLoop(words: readonly TimedWord[], maxRepeats = 3, maxPhrase = 4): TimedWord[] {
  const keys = words.map((w) => wordKey(w.word));
  for (let start = 0; start < keys.length; start++) {
    for (let n = 1; n <= maxPhrase && start + n <= keys.length; n++) {
      let repeats = 1;
      while (sameRun(keys, start, start + repeats * n, n)) repeats++;
      if (repeats > maxRepeats) return words.slice(0, start + maxRepeats * n);
    }
  }
  return [...words];
}

function sameRun(keys: string[], a: number, b: number, n: number): boolean {
  if (b + n > keys.length) return false;
  for (let i = 0; i < n; i++) if (keys[a + i] !== keys[b + i]) return false;
  return true;
}
