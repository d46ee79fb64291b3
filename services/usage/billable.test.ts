// The billing rule of usage.proto: seconds of audio times the channels recognised, rounded up.
import { describe, expect, it } from "vitest";
import { billableSeconds, wholeBilledSeconds } from "./billable.js";

describe("billed audio", () => {
  it("is the audio's seconds times the channels recognised", () => {
    expect(billableSeconds(4, 2)).toBe(8);
    expect(billableSeconds(2.5, 2)).toBe(5);
    expect(billableSeconds(3, 1)).toBe(3);
  });

  it("rounds up to the whole second, after the channels are counted", () => {
    expect(billableSeconds(61.2, 1)).toBe(62);
    expect(billableSeconds(1.2, 2)).toBe(3);
    expect(billableSeconds(0.001, 1)).toBe(1);
    expect(billableSeconds(0, 2)).toBe(0);
  });

  it("bills work that recognised no channel once, as mono", () => {
    expect(billableSeconds(4.5, 0)).toBe(5);
    expect(billableSeconds(4.5, -1)).toBe(5);
  });

  it("stores any other seconds rounded up too", () => {
    expect(wholeBilledSeconds(61.2)).toBe(62);
    expect(wholeBilledSeconds(42)).toBe(42);
  });
});
