// The pricing rule: fee, included minutes, overage per started minute.
import { describe, expect, it } from "vitest";
import { monthlyAmount, Plans } from "./plans.js";

const starter = { name: "starter", includedMinutes: 100, monthlyFeeMinor: 2900, overagePerMinuteMinor: 3 };

describe("monthlyAmount", () => {
  it("charges the fee alone while the audio stays within the included minutes", () => {
    expect(monthlyAmount(starter, 0)).toBe(2900);
    expect(monthlyAmount(starter, 100 * 60)).toBe(2900);
  });

  it("charges each started minute beyond the included ones at the overage price", () => {
    expect(monthlyAmount(starter, 100 * 60 + 1)).toBe(2903);
    expect(monthlyAmount(starter, 110 * 60)).toBe(2930);
  });
});

describe("Plans", () => {
  const plans = new Plans([{ name: "free", includedMinutes: 10, monthlyFeeMinor: 0, overagePerMinuteMinor: 0 }, starter], "free", "usd");

  it("refuses a plan name the table does not have, naming the plans there are", () => {
    expect(() => plans.named("gold")).toThrow(/free, starter/);
  });

  it("puts an organisation whose plan left the table on the default plan", () => {
    expect(plans.of("retired").name).toBe("free");
    expect(plans.of("starter")).toBe(starter);
  });
});
