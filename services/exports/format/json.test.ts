import { describe, expect, it } from "vitest";
import { renderExport, type ExportOptions, type ExportTranscript } from "./index.js";
import { callTranscript } from "./test-fixture.js";

async function json(transcript: ExportTranscript, options: ExportOptions = {}): Promise<string> {
  return new TextDecoder().decode((await renderExport("json", transcript, options)).bytes);
}

const word = (w: string, start: number, end: number, confidence: number | null) => ({ word: w, start, end, confidence });

describe("JSON export", () => {
  it("writes version 1 of the schema: every key, in a fixed order, null where unknown", async () => {
    // Written as the text it must be, keys in order, so that a reordered or renamed key fails here.
    const expected = {
      schema: "arabicstt.transcript-export",
      version: 1,
      transcript: {
        id: "7d1c9a52-3f4e-4b8a-9c61-2f0e8d5a4b17",
        title: "مكالمة خدمة العملاء",
        language: "ar",
        durationSeconds: 10,
        channels: 2,
        metadata: { diarization: "channel" },
      },
      speakers: [
        { id: "1", label: "الوكيل", channel: 1 },
        { id: "2", label: "العميل", channel: 2 },
      ],
      segments: [
        {
          index: 0,
          start: 0.52,
          end: 4.8,
          speakerId: "1",
          channel: 1,
          text: "مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟",
          confidence: 0.94,
          words: [
            word("مرحبا", 0.52, 0.98, 0.97),
            word("بك", 1, 1.2, 0.95),
            word("في", 1.22, 1.4, 0.96),
            word("خدمة", 1.42, 1.8, 0.93),
            word("العملاء", 1.82, 2.4, 0.92),
            word("كيف", 2.6, 2.9, 0.95),
            word("يمكنني", 2.92, 3.5, 0.94),
            word("مساعدتك", 3.52, 4.2, 0.91),
            word("اليوم", 4.22, 4.8, 0.93),
          ],
          alternatives: [],
        },
        {
          index: 1,
          start: 5.1,
          end: 7.35,
          speakerId: "2",
          channel: 2,
          text: "أريد الاستفسار عن فاتورة شهر مارس.",
          confidence: null,
          words: [],
          alternatives: ["أريد الاستفسار عن فاتورة شهر مايو."],
        },
        {
          index: 2,
          start: 7.6,
          end: 9.25,
          speakerId: "1",
          channel: 1,
          text: "بالتأكيد، ما هو رقم الحساب؟",
          confidence: 0.9,
          words: [word("بالتأكيد", 7.6, 8.2, 0.9), word("ما", 8.3, 8.45, 0.88), word("هو", 8.47, 8.6, 0.91), word("رقم", 8.62, 8.9, null), word("الحساب", 8.92, 9.25, 0.9)],
          alternatives: [],
        },
      ],
    };
    expect(await json(callTranscript)).toBe(`${JSON.stringify(expected, null, 2)}\n`);
  });

  it("writes words as null when they are left out, keeps empty segments, rounds times to the millisecond", async () => {
    const transcript: ExportTranscript = {
      id: "t",
      language: "ar-EG",
      durationSeconds: 3725.12345,
      channels: 1,
      speakers: [{ id: "1", label: "1" }],
      segments: [
        { start: 3724.0004, end: 3725.0006, text: "", words: [{ word: "آه", start: 3724.0004, end: 3725 }] },
        { start: 1.5, end: 2, text: "أولا", speakerId: "1" },
      ],
      metadata: {},
    };
    const parsed = JSON.parse(await json(transcript, { includeWords: false }));
    expect(parsed.transcript).toEqual({ id: "t", title: null, language: "ar-EG", durationSeconds: 3725.123, channels: 1, metadata: {} });
    expect(parsed.speakers).toEqual([{ id: "1", label: "1", channel: null }]);
    expect(parsed.segments).toEqual([
      { index: 0, start: 1.5, end: 2, speakerId: "1", channel: null, text: "أولا", confidence: null, words: null, alternatives: [] },
      { index: 1, start: 3724, end: 3725.001, speakerId: null, channel: null, text: "", confidence: null, words: null, alternatives: [] },
    ]);
  });

  it("is the one format with the runner-ups (max_alternatives): txt, srt and vtt stay on the first hypothesis", async () => {
    expect(await json(callTranscript)).toContain("مايو");
    for (const format of ["txt", "srt", "vtt"] as const) {
      const text = new TextDecoder().decode((await renderExport(format, callTranscript)).bytes);
      expect(text, format).toContain("مارس");
      expect(text, format).not.toContain("مايو");
    }
  });

  it("says it is JSON", async () => {
    const { contentType, fileExtension } = await renderExport("json", callTranscript);
    expect({ contentType, fileExtension }).toEqual({ contentType: "application/json", fileExtension: "json" });
  });
});
