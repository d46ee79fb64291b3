// How a chunk's n-best (whole-chunk texts) becomes runner-ups of the chunk's segments.
import { describe, expect, it } from "vitest";
import { segmentRunnerUps } from "./runner-ups.js";

describe("segmentRunnerUps", () => {
  it("gives a chunk of one segment each runner-up whole, at most `limit`, without repeats of the text or of each other", () => {
    expect(segmentRunnerUps(["خمسة وعشرين"], ["خمس وعشرين", "خمسة وعشرين", "خمس وعشرين", "خمسة و عشرين", "خمسا وعشرين"], 2)).toEqual([["خمس وعشرين", "خمسة و عشرين"]]);
  });

  it("gives a runner-up that differs within one segment to that segment, as its own text with the words replaced", () => {
    const segments = ["السلام عليكم", "رقمي خمسة وعشرين", "شكرا لك"];
    expect(segmentRunnerUps(segments, ["السلام عليكم رقمي خمس وعشرين شكرا لك"], 3)).toEqual([[], ["رقمي خمس وعشرين"], []]);
    // Words dropped or added inside one segment, and at the very start or end.
    expect(segmentRunnerUps(segments, ["السلام عليكم رقمي وعشرين شكرا لك", "السلام عليكم رقمي خمسة وعشرين شكرا لك جزيلا", "و السلام عليكم رقمي خمسة وعشرين شكرا لك"], 3)).toEqual([
      ["و السلام عليكم"],
      ["رقمي وعشرين"],
      ["شكرا لك جزيلا"],
    ]);
  });

  it("gives a runner-up that differs across two segments, or only inserts words at a boundary between them, to neither", () => {
    const segments = ["السلام عليكم", "رقمي خمسة"];
    expect(segmentRunnerUps(segments, ["السلام عليك رقم خمسة", "السلام عليكم يا رقمي خمسة"], 3)).toEqual([[], []]);
  });

  it("gives none when the model gave no runner-up or none is wanted", () => {
    expect(segmentRunnerUps(["4711"], [], 3)).toEqual([[]]);
    expect(segmentRunnerUps(["4711"], ["4712"], 0)).toEqual([[]]);
    expect(segmentRunnerUps([], ["4712"], 3)).toEqual([]);
  });
});
