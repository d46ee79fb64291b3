import { describe, expect, it } from "vitest";
import { TrackInterleaver } from "./interleave.js";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("TrackInterleaver", () => {
  it("pairs the tracks' samples in arrival order, a chunk once every track has enough", () => {
    const t = new TrackInterleaver(2, { sendFrames: 2, maxSkewFrames: 10, silence: 0xff });
    expect(t.push(0, bytes(1, 2, 3))).toEqual([]);
    expect(t.push(1, bytes(11))).toEqual([]);
    expect(t.push(1, bytes(12, 13, 14))).toEqual([bytes(1, 11, 2, 12)]);
    expect(t.push(0, bytes(4))).toEqual([bytes(3, 13, 4, 14)]);
  });

  it("fills a silent track with silence once the other runs too far ahead, and pads the rest at the end", () => {
    const t = new TrackInterleaver(2, { sendFrames: 2, maxSkewFrames: 3, silence: 0xff });
    expect(t.push(0, bytes(1, 2, 3))).toEqual([]);
    // Five ahead, three allowed: the silent track gets two samples of silence, and a chunk goes out.
    expect(t.push(0, bytes(4, 5))).toEqual([bytes(1, 0xff, 2, 0xff)]);
    expect(t.flush()).toEqual(bytes(3, 0xff, 4, 0xff, 5, 0xff));
  });

  it("passes one track through as it is", () => {
    const t = new TrackInterleaver(1, { sendFrames: 2, maxSkewFrames: 3, silence: 0xff });
    expect(t.push(0, bytes(1, 2, 3, 4, 5))).toEqual([bytes(1, 2), bytes(3, 4)]);
    expect(t.flush()).toEqual(bytes(5));
  });
});
