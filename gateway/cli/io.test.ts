// Right-to-left text on a terminal: Arabic lines are wrapped in Unicode isolates (RLI … PDI) so a line that
// mixes Arabic with digits or ids keeps its order; pipes and files get the text untouched. Progress bars.
import { describe, expect, it } from "vitest";
import { isolate, progressBar } from "./io.js";

describe("CLI output", () => {
  it("isolates right-to-left lines on a terminal only", () => {
    expect(isolate("مرحبا 42 بكم", { isTTY: true })).toBe("\u2067مرحبا 42 بكم\u2069");
    expect(isolate("مرحبا 42 بكم", { isTTY: false })).toBe("مرحبا 42 بكم");
    expect(isolate("S1: 42#7", { isTTY: true })).toBe("S1: 42#7");
  });

  it("draws a bar that clamps its fraction", () => {
    expect(progressBar(0.5, "job", 10)).toBe("[#####-----]  50% job");
    expect(progressBar(2, "x", 4)).toBe("[####] 100% x");
    expect(progressBar(Number.NaN, "x", 4)).toBe("[----]   0% x");
  });
});
