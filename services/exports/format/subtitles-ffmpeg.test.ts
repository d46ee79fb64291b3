// SRT and WebVTT exports as a real player library reads them: ffmpeg (Debian's) parses each file and writes
// it back out as SubRip, which must give back every cue, time and line, right-to-left marks included.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderExport, type ExportOptions, type ExportTranscript } from "./index.js";
import { callTranscript } from "./test-fixture.js";

const run = promisify(execFile);

// The call, then a long answer after the first hour that must be cut into several cues, with characters
// WebVTT must escape, and an English reply that gets no right-to-left marks.
const transcript: ExportTranscript = {
  ...callTranscript,
  durationSeconds: 3750,
  segments: [
    ...callTranscript.segments,
    {
      start: 3725.5,
      end: 3741.25,
      speakerId: "2",
      channel: 2,
      text: "سعر الباقة 5 & 10 دنانير <شهريًا> وهذا أقل من سعر الباقة الأخرى بكثير كما ترى في الفاتورة المرسلة إليك",
    },
    { start: 3742, end: 3743, speakerId: "1", channel: 1, text: "OK, thanks." },
  ],
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "export-subtitles-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exported(format: "srt" | "vtt", options: ExportOptions = {}): Promise<{ file: string; text: string }> {
  const { bytes, fileExtension } = await renderExport(format, transcript, options);
  const file = join(dir, `${format}-${Object.keys(options).join("-") || "default"}.${fileExtension}`);
  await writeFile(file, bytes);
  return { file, text: new TextDecoder().decode(bytes) };
}

/** The file as ffmpeg reads it, written back as SubRip; ffmpeg ends lines inside a cue with CRLF. */
async function ffmpegAsSrt(file: string): Promise<string> {
  const { stdout } = await run("ffmpeg", ["-nostdin", "-v", "error", "-i", file, "-f", "srt", "-"]);
  return `${stdout.replace(/\r\n/gu, "\n").trimEnd()}\n`;
}

function cueCount(srt: string): number {
  return srt.split("\n\n").length;
}

describe("subtitles that ffmpeg reads back", () => {
  it("SRT: every cue, time and line comes back as written", async () => {
    const { file, text } = await exported("srt");
    expect(cueCount(text)).toBe(7);
    expect(await ffmpegAsSrt(file)).toBe(text);
  });

  it("WebVTT: the same cues, with voices taken off and &, <, > unescaped", async () => {
    // Without speaker prefixes, SubRip lays cues out exactly as WebVTT does with voices.
    const { file, text } = await exported("vtt");
    expect(text).toContain("5 &amp; 10");
    expect(text).toContain("&lt;شهريًا&gt;");
    const { text: expected } = await exported("srt", { includeSpeakers: false });
    expect(await ffmpegAsSrt(file)).toBe(expected);
  });

  it("WebVTT without right-to-left marks, with hours past one", async () => {
    const { file } = await exported("vtt", { addRtlMarks: false, maxLinesPerCue: 1 });
    const { text: expected } = await exported("srt", { addRtlMarks: false, maxLinesPerCue: 1, includeSpeakers: false });
    expect(expected).toContain("01:02:05,500 --> ");
    expect(expected).not.toContain("\u200f");
    expect(await ffmpegAsSrt(file)).toBe(expected);
  });
});
