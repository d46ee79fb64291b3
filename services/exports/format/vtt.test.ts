import { describe, expect, it } from "vitest";
import { RIGHT_TO_LEFT_MARK as RLM } from "./bidi.js";
import { renderExport, type ExportOptions, type ExportTranscript } from "./index.js";
import { callTranscript } from "./test-fixture.js";

async function vtt(transcript: ExportTranscript, options: ExportOptions = {}): Promise<string> {
  return new TextDecoder().decode((await renderExport("vtt", transcript, options)).bytes);
}

describe("WebVTT export", () => {
  it("writes the header, cues with full-stop times, speakers as voices and right-to-left marks", async () => {
    // The name is a voice, not text: it takes no room in the line.
    expect(await vtt(callTranscript)).toBe(
      "WEBVTT\n" +
        "\n" +
        "1\n" +
        "00:00:00.520 --> 00:00:04.800\n" +
        `<v الوكيل>${RLM}مرحبا بك في خدمة العملاء،${RLM}\n` +
        `${RLM}كيف يمكنني مساعدتك اليوم؟${RLM}\n` +
        "\n" +
        "2\n" +
        "00:00:05.100 --> 00:00:07.350\n" +
        `<v العميل>${RLM}أريد الاستفسار عن فاتورة شهر مارس.${RLM}\n` +
        "\n" +
        "3\n" +
        "00:00:07.600 --> 00:00:09.250\n" +
        `<v الوكيل>${RLM}بالتأكيد، ما هو رقم الحساب؟${RLM}\n`,
    );
  });

  it("escapes &, < and > in text and in voice names, and writes hours past one", async () => {
    const transcript: ExportTranscript = {
      ...callTranscript,
      speakers: [{ id: "1", label: "R&D <فريق>" }],
      segments: [{ start: 3723.456, end: 3725, text: "السعر <5 & >2 --> نعم", speakerId: "1" }],
    };
    expect(await vtt(transcript, { addRtlMarks: false })).toBe(
      "WEBVTT\n\n1\n01:02:03.456 --> 01:02:05.000\n<v R&amp;D &lt;فريق&gt;>السعر &lt;5 &amp; &gt;2 --&gt; نعم\n",
    );
  });

  it("writes no voice when speakers are left out, and only the header for an empty transcript", async () => {
    expect(await vtt({ ...callTranscript, segments: [callTranscript.segments[1]!] }, { includeSpeakers: false })).toBe(
      `WEBVTT\n\n1\n00:00:05.100 --> 00:00:07.350\n${RLM}أريد الاستفسار عن فاتورة شهر مارس.${RLM}\n`,
    );
    expect(await vtt({ ...callTranscript, segments: [] })).toBe("WEBVTT\n");
  });

  it("says it is WebVTT", async () => {
    const { contentType, fileExtension } = await renderExport("vtt", callTranscript);
    expect({ contentType, fileExtension }).toEqual({ contentType: "text/vtt; charset=utf-8", fileExtension: "vtt" });
  });
});
