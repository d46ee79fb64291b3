import { describe, expect, it } from "vitest";
import { RIGHT_TO_LEFT_MARK as RLM } from "./bidi.js";
import { renderExport, type ExportOptions, type ExportTranscript } from "./index.js";
import { callTranscript } from "./test-fixture.js";

async function srt(transcript: ExportTranscript, options: ExportOptions = {}): Promise<string> {
  return new TextDecoder().decode((await renderExport("srt", transcript, options)).bytes);
}

describe("SRT export", () => {
  it("numbers the cues, prefixes the speaker and wraps Arabic lines in right-to-left marks", async () => {
    expect(await srt(callTranscript)).toBe(
      "1\n" +
        "00:00:00,520 --> 00:00:04,800\n" +
        `${RLM}الوكيل: مرحبا بك في خدمة العملاء،${RLM}\n` +
        `${RLM}كيف يمكنني مساعدتك اليوم؟${RLM}\n` +
        "\n" +
        "2\n" +
        "00:00:05,100 --> 00:00:07,350\n" +
        `${RLM}العميل: أريد الاستفسار عن فاتورة شهر مارس.${RLM}\n` +
        "\n" +
        "3\n" +
        "00:00:07,600 --> 00:00:09,250\n" +
        `${RLM}الوكيل: بالتأكيد، ما هو رقم الحساب؟${RLM}\n`,
    );
  });

  it("starts a new cue when the line is full, timing cues by the words or, without words, by word length", async () => {
    // One line of 20 characters per cue. The customer's segment has no word times: its 2.25 s are shared out
    // by letters plus a space (5, 10, 3, 7, 4, 6 of 35).
    const text = await srt(callTranscript, { includeSpeakers: false, addRtlMarks: false, maxLineLength: 20, maxLinesPerCue: 1 });
    expect(text).toBe(
      "1\n00:00:00,520 --> 00:00:01,800\nمرحبا بك في خدمة\n\n" +
        "2\n00:00:01,820 --> 00:00:03,500\nالعملاء، كيف يمكنني\n\n" +
        "3\n00:00:03,520 --> 00:00:04,800\nمساعدتك اليوم؟\n\n" +
        "4\n00:00:05,100 --> 00:00:06,257\nأريد الاستفسار عن\n\n" +
        "5\n00:00:06,257 --> 00:00:07,350\nفاتورة شهر مارس.\n\n" +
        "6\n00:00:07,600 --> 00:00:08,900\nبالتأكيد، ما هو رقم\n\n" +
        "7\n00:00:08,920 --> 00:00:09,250\nالحساب؟\n",
    );
  });

  it("starts a new cue when the next word would keep the cue on screen longer than the maximum", async () => {
    const text = await srt(callTranscript, { includeSpeakers: false, addRtlMarks: false, maxLineLength: 20, maxCueDurationSeconds: 1 });
    expect(text).toBe(
      "1\n00:00:00,520 --> 00:00:01,400\nمرحبا بك في\n\n" +
        "2\n00:00:01,420 --> 00:00:02,400\nخدمة العملاء،\n\n" +
        "3\n00:00:02,600 --> 00:00:03,500\nكيف يمكنني\n\n" +
        "4\n00:00:03,520 --> 00:00:04,200\nمساعدتك\n\n" +
        "5\n00:00:04,220 --> 00:00:04,800\nاليوم؟\n\n" +
        "6\n00:00:05,100 --> 00:00:06,064\nأريد الاستفسار\n\n" +
        "7\n00:00:06,064 --> 00:00:06,964\nعن فاتورة شهر\n\n" +
        "8\n00:00:06,964 --> 00:00:07,350\nمارس.\n\n" +
        // Exactly 1 s is allowed.
        "9\n00:00:07,600 --> 00:00:08,600\nبالتأكيد، ما هو\n\n" +
        "10\n00:00:08,620 --> 00:00:09,250\nرقم الحساب؟\n",
    );
  });

  it("writes times past an hour and leaves lines without Arabic letters unmarked", async () => {
    const transcript: ExportTranscript = {
      ...callTranscript,
      segments: [{ start: 3723.456, end: 3725, text: "OK, thanks." }],
    };
    expect(await srt(transcript)).toBe("1\n01:02:03,456 --> 01:02:05,000\nOK, thanks.\n");
  });

  it("says it is SubRip", async () => {
    const { contentType, fileExtension } = await renderExport("srt", callTranscript);
    expect({ contentType, fileExtension }).toEqual({ contentType: "application/x-subrip; charset=utf-8", fileExtension: "srt" });
  });
});
