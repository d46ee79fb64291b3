// The repetition-loop guard on scripted whisper hypotheses.
import { describe, expect, it } from "vitest";
import type { TimedWord } from "./local-agreement.js";
import { cutRepetitionLoop } from "./repetition.js";

const words = (text: string): TimedWord[] => text.split(" ").map((word, i) => ({ word, start: i, end: i + 0.5, probability: 0.5, separator: " " }));
const text = (ws: TimedWord[]) => ws.map((w) => w.word).join(" ");

describe("the repetition-loop guard", () => {
  it("cuts a word repeated in a loop after the repeats speech allows", () => {
    expect(text(cutRepetitionLoop(words("أهلا شكرا شكرا شكرا شكرا شكرا شكرا")))).toBe("أهلا شكرا شكرا شكرا");
  });

  it("cuts a looping phrase, whatever its punctuation", () => {
    const looped = words("قال إن الله معنا، الله معنا الله معنا. الله معنا الله معنا");
    expect(text(cutRepetitionLoop(looped))).toBe("قال إن الله معنا، الله معنا الله معنا.");
  });

  it("leaves speech that repeats within reason untouched", () => {
    for (const ok of ["لا لا لا أريد", "نعم نعم", "واحد اثنان واحد اثنان واحد اثنان ثم ثلاثة"]) {
      expect(text(cutRepetitionLoop(words(ok)))).toBe(ok);
    }
  });
});
