import { describe, expect, it } from "vitest";
import { formatClock, formatCueTime, toMilliseconds } from "./timecode.js";

describe("cue times", () => {
  it("write SubRip with a comma and WebVTT with a full stop before the milliseconds", () => {
    expect(formatCueTime(520, ",")).toBe("00:00:00,520");
    expect(formatCueTime(520, ".")).toBe("00:00:00.520");
  });

  it("count hours past one and past 99", () => {
    expect(formatCueTime(toMilliseconds(3723.456), ",")).toBe("01:02:03,456");
    expect(formatCueTime(toMilliseconds(36_000 + 59 * 60 + 59.999), ".")).toBe("10:59:59.999");
    expect(formatCueTime(toMilliseconds(100 * 3600), ",")).toBe("100:00:00,000");
  });

  it("carry a rounded millisecond into the next second, minute and hour", () => {
    expect(formatCueTime(toMilliseconds(59.9996), ",")).toBe("00:01:00,000");
    expect(formatCueTime(toMilliseconds(3599.9999), ".")).toBe("01:00:00.000");
  });
});

describe("paragraph clock", () => {
  it("shows the second a paragraph starts in, rounded down", () => {
    expect(formatClock(7.6)).toBe("00:00:07");
    expect(formatClock(3725.5)).toBe("01:02:05");
  });
});
