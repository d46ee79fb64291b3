// How model output becomes the engine's words: separators by the model's writing (whisper's
// spaced words, dtmf's run-together keys), and the repetition-loop guard for speech models only.
import { describe, expect, it } from "vitest";
import type { InferenceClient, Transcription } from "../../inference/client/index.js";
import { asrOf, wordsOf } from "./live-recognition.js";
import { joinWords } from "./engine/local-agreement.js";

function transcription(segments: Array<{ text: string; words: string[] }>): Transcription {
  return {
    text: segments.map((s) => s.text).join(" "),
    language: "ar",
    duration: 10,
    segments: segments.map((s, k) => ({
      start: k,
      end: k + 1,
      text: s.text,
      avgLogprob: -0.2,
      noSpeechProb: 0,
      words: s.words.map((word, i) => ({ word, start: k + i * 0.1, end: k + i * 0.1 + 0.05, probability: 0.9 })),
    })),
  };
}

describe("model output as words", () => {
  it("joins whisper's words with spaces and keypad keys with nothing", () => {
    expect(joinWords(wordsOf(transcription([{ text: " السلام عليكم", words: ["السلام", "عليكم"] }, { text: "ورحمة الله", words: ["ورحمة", "الله"] }])))).toBe("السلام عليكم ورحمة الله");
    expect(joinWords(wordsOf(transcription([{ text: "159#", words: ["1", "5", "9", "#"] }])))).toBe("159#");
  });

  it("cuts repetition loops for speech models, and keeps repeated keys for keypad models", async () => {
    const looped: Pick<InferenceClient, "transcribe"> = {
      transcribe: async (model) =>
        model === "whisper"
          ? transcription([{ text: "شكرا شكرا شكرا شكرا شكرا", words: ["شكرا", "شكرا", "شكرا", "شكرا", "شكرا"] }])
          : transcription([{ text: "11111", words: ["1", "1", "1", "1", "1"] }]),
    };
    const audio = new Float32Array(16_000);
    expect(joinWords(await asrOf(looped, "whisper", "ar", { cutLoops: true })(audio, {}))).toBe("شكرا شكرا شكرا");
    expect(joinWords(await asrOf(looped, "dtmf", "ar")(audio, {}))).toBe("11111");
  });
});
