import { describe, expect, it } from "vitest";
import type { ExportSegment, ExportTranscript } from "./export-transcript.js";
import { buildSubtitleCues, displayLength, type CueLayout } from "./subtitle-cues.js";

const layout: CueLayout = { maxLineLength: 20, maxLinesPerCue: 2, maxCueDurationMs: 7000, speakerInText: false, includeSpeakers: true };

function transcriptOf(...segments: ExportSegment[]): ExportTranscript {
  return {
    id: "t",
    language: "ar",
    durationSeconds: 60,
    channels: 1,
    speakers: [{ id: "1", label: "الوكيل", channel: 1 }],
    segments,
    metadata: {},
  };
}

describe("subtitle cues", () => {
  it("keep a segment that fits in one cue whole, with the segment's times", () => {
    const cues = buildSubtitleCues(transcriptOf({ start: 1.25, end: 2.5, text: "  شكرا   لك\n جزيلا ", speakerId: "1" }), layout);
    expect(cues).toEqual([{ startMs: 1250, endMs: 2500, speaker: "الوكيل", lines: ["شكرا لك جزيلا"] }]);
  });

  it("break lines at word boundaries and balance them, no line longer than the maximum", () => {
    // 8 words of 4 letters: 39 characters; greedy filling would give 24 + 14, balanced it is 19 + 19.
    const text = "كتاب قلمي بيتي ورقة نافذ شمسي قمري نجمة";
    const [cue, ...rest] = buildSubtitleCues(transcriptOf({ start: 0, end: 4, text }), layout);
    expect(rest).toEqual([]);
    expect(cue!.lines).toEqual(["كتاب قلمي بيتي ورقة", "نافذ شمسي قمري نجمة"]);
  });

  it("start a new cue when the words no longer fit in the cue's lines", () => {
    const text = "كتاب قلمي بيتي ورقة نافذ شمسي قمري نجمة بحر";
    const cues = buildSubtitleCues(transcriptOf({ start: 0, end: 4.5, text }), { ...layout, maxLinesPerCue: 1 });
    expect(cues.map((cue) => cue.lines)).toEqual([["كتاب قلمي بيتي ورقة"], ["نافذ شمسي قمري نجمة"], ["بحر"]]);
  });

  it("time cues from the words when the words match the text one for one, punctuation aside", () => {
    const segment: ExportSegment = {
      start: 10,
      end: 20,
      text: "أهلا، كيف الحال؟",
      words: [
        { word: "أهلا", start: 10.5, end: 11 },
        { word: "كيف", start: 18, end: 18.4 },
        { word: "الحال", start: 18.5, end: 19.25 },
      ],
    };
    const cues = buildSubtitleCues(transcriptOf(segment), { ...layout, maxCueDurationMs: 5000 });
    expect(cues.map(({ startMs, endMs, lines }) => ({ startMs, endMs, lines }))).toEqual([
      { startMs: 10_500, endMs: 11_000, lines: ["أهلا،"] },
      { startMs: 18_000, endMs: 19_250, lines: ["كيف الحال؟"] },
    ]);
  });

  it("share the segment's time out by word length when the words do not match the edited text", () => {
    // Weights (letters and the space after): 3, 4 and 3 of 10, over 10 s; 5 s a cue at most.
    const segment: ExportSegment = { start: 0, end: 10, text: "من هنا في", words: [{ word: "منهنا", start: 0, end: 10 }] };
    const cues = buildSubtitleCues(transcriptOf(segment), { ...layout, maxCueDurationMs: 5000 });
    expect(cues.map(({ startMs, endMs, lines }) => ({ startMs, endMs, lines }))).toEqual([
      { startMs: 0, endMs: 3000, lines: ["من"] },
      { startMs: 3000, endMs: 7000, lines: ["هنا"] },
      { startMs: 7000, endMs: 10_000, lines: ["في"] },
    ]);
  });

  it("cut no cue longer than the maximum duration, and cut a single overlong word short at it", () => {
    const cues = buildSubtitleCues(transcriptOf({ start: 0, end: 12, text: "مرحبااااااااااااااااااااااااا" }), layout);
    expect(cues.map(({ startMs, endMs }) => ({ startMs, endMs }))).toEqual([{ startMs: 0, endMs: 7000 }]);
    expect(cues[0]!.lines).toEqual(["مرحبااااااااااااااااااااااااا"]);
  });

  it("count the speaker prefix in the first line's length when the name is in the text", () => {
    const segment: ExportSegment = { start: 0, end: 2, text: "صباح الخير يا أستاذ", speakerId: "1" };
    expect(buildSubtitleCues(transcriptOf(segment), layout)[0]!.lines).toEqual(["صباح الخير يا أستاذ"]);
    expect(buildSubtitleCues(transcriptOf(segment), { ...layout, speakerInText: true })[0]!.lines).toEqual(["الوكيل: صباح", "الخير يا أستاذ"]);
  });

  it("leave the speaker out when speakers are not shown", () => {
    const cues = buildSubtitleCues(transcriptOf({ start: 0, end: 2, text: "نعم", speakerId: "1" }), { ...layout, includeSpeakers: false, speakerInText: true });
    expect(cues).toEqual([{ startMs: 0, endMs: 2000, speaker: null, lines: ["نعم"] }]);
  });

  it("order cues by start time across channels and skip segments with no text", () => {
    const cues = buildSubtitleCues(
      transcriptOf({ start: 5, end: 6, text: "ثانيا", channel: 1 }, { start: 7, end: 8, text: "  \n " }, { start: 1, end: 2, text: "أولا", channel: 2 }),
      layout,
    );
    expect(cues.map((cue) => cue.lines[0])).toEqual(["أولا", "ثانيا"]);
  });

  it("interleave the cues of segments that overlap on two channels", () => {
    const cues = buildSubtitleCues(
      transcriptOf(
        { start: 0, end: 6, text: "كتاب قلمي بيتي ورقة نافذ شمسي", channel: 1 },
        { start: 2, end: 3, text: "نعم", channel: 2 },
      ),
      { ...layout, maxLinesPerCue: 1, maxLineLength: 20 },
    );
    expect(cues.map(({ startMs, lines }) => [startMs, lines[0]])).toEqual([
      [0, "كتاب قلمي بيتي ورقة"],
      [2000, "نعم"],
      [4000, "نافذ شمسي"],
    ]);
  });

  it("count a letter with its diacritics as one character", () => {
    expect(displayLength("مُحَمَّدٌ")).toBe(4);
    // 22 letters and spaces, 37 code points.
    const cues = buildSubtitleCues(transcriptOf({ start: 0, end: 3, text: "بِسْمِ اللَّهِ الرَّحْمَنِ الرَّحِيمِ" }), { ...layout, maxLineLength: 22 });
    expect(cues[0]!.lines).toEqual(["بِسْمِ اللَّهِ الرَّحْمَنِ الرَّحِيمِ"]);
  });
});
