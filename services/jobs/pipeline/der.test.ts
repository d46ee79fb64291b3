// The diarization error rate as md-eval scores it without a collar: misses, false alarms and confusion under
// the best one-to-one speaker mapping, overlapped speech once per speaker.
import { describe, expect, it } from "vitest";
import { diarizationErrorRate, parseRttm } from "./der.js";

const reference = [
  { speaker: "A", start: 0, end: 4 },
  { speaker: "B", start: 4, end: 8 },
];

describe("diarizationErrorRate", () => {
  it("is 0 for the reference under other names, and maps the names", () => {
    const score = diarizationErrorRate(reference, [
      { speaker: "S2", start: 0, end: 4 },
      { speaker: "S1", start: 4, end: 8 },
    ]);
    expect(score.der).toBe(0);
    expect(score.mapping).toEqual({ S2: "A", S1: "B" });
    expect(score.referenceSeconds).toBe(8);
  });

  it("counts missed speech, false alarms and confusion in seconds", () => {
    const score = diarizationErrorRate(reference, [
      { speaker: "S1", start: 1, end: 5 },
      { speaker: "S2", start: 5, end: 8 },
      { speaker: "S2", start: 9, end: 10 },
    ]);
    // 0–1 missed; 4–5 is B's time given to A's speaker; 9–10 nobody spoke.
    expect(score).toMatchObject({ missed: 1, confusion: 1, falseAlarm: 1 });
    expect(score.der).toBeCloseTo(3 / 8);
  });

  it("scores overlapped speech per speaker: one voice found where two spoke misses the other", () => {
    const overlapped = [...reference, { speaker: "B", start: 3, end: 4 }];
    const score = diarizationErrorRate(overlapped, [
      { speaker: "x", start: 0, end: 4 },
      { speaker: "y", start: 4, end: 8 },
    ]);
    expect(score.referenceSeconds).toBe(9);
    expect(score.missed).toBe(1);
    expect(score.der).toBeCloseTo(1 / 9);
  });

  it("puts everything in one speaker down as confusion for the other", () => {
    expect(diarizationErrorRate(reference, [{ speaker: "x", start: 0, end: 8 }]).der).toBeCloseTo(0.5);
  });
});

describe("parseRttm", () => {
  it("reads SPEAKER lines and skips others", () => {
    const text = "SPEAKER sample 1 6.690 0.430 <NA> <NA> speaker90 <NA> <NA>\n;; comment\nSPEAKER sample 1 7.550 0.800 <NA> <NA> speaker91 <NA> <NA>\n";
    expect(parseRttm(text)).toEqual([
      { speaker: "speaker90", start: 6.69, end: 6.69 + 0.43 },
      { speaker: "speaker91", start: 7.55, end: 7.55 + 0.8 },
    ]);
  });
});
