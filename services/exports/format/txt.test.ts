import { describe, expect, it } from "vitest";
import { renderExport, type ExportOptions } from "./index.js";
import { callTranscript } from "./test-fixture.js";

async function txt(options: ExportOptions = {}): Promise<string> {
  return new TextDecoder().decode((await renderExport("txt", callTranscript, options)).bytes);
}

describe("TXT export", () => {
  it("writes one line per segment with its start time and speaker", async () => {
    expect(await txt()).toBe(
      "[00:00:00] الوكيل: مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟\n" +
        "[00:00:05] العميل: أريد الاستفسار عن فاتورة شهر مارس.\n" +
        "[00:00:07] الوكيل: بالتأكيد، ما هو رقم الحساب؟\n",
    );
  });

  it("leaves out times and speakers when asked", async () => {
    expect(await txt({ includeTimestamps: false, includeSpeakers: false })).toBe(
      "مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟\n" + "أريد الاستفسار عن فاتورة شهر مارس.\n" + "بالتأكيد، ما هو رقم الحساب؟\n",
    );
  });

  it("shows a speaker's label when it has no name, and nothing for an unknown speaker", async () => {
    const transcript = {
      ...callTranscript,
      speakers: [],
      segments: [
        { start: 3725.5, end: 3727, text: "نعم", speakerId: "S2" },
        { start: 3728, end: 3729, text: "لا" },
      ],
    };
    const { bytes, contentType, fileExtension } = await renderExport("txt", transcript);
    expect(new TextDecoder().decode(bytes)).toBe("[01:02:05] S2: نعم\n[01:02:08] لا\n");
    expect({ contentType, fileExtension }).toEqual({ contentType: "text/plain; charset=utf-8", fileExtension: "txt" });
  });
});
