import { describe, expect, it } from "vitest";
import { energyGate } from "./gate.js";

describe("the energy gate", () => {
  it("scores the same without a promise (scoreNow) as with one, a frame at -45 dBFS or more as speech", async () => {
    const gate = energyGate({ frameSamples: 160 });
    const levels = [0, 0.001, 0.0079, 0.008, 0.5]; // -45 dBFS is an RMS of 0.00562; a sine's RMS is its amplitude / √2
    const frames = new Float32Array(160 * levels.length);
    levels.forEach((amplitude, f) => {
      for (let i = 0; i < 160; i++) frames[f * 160 + i] = amplitude * Math.sin((2 * Math.PI * i) / 16);
    });
    const now = gate.scoreNow!(frames);
    expect(Array.from(now)).toEqual([0, 0, 0, 1, 1]);
    expect(await gate.score(frames)).toEqual(now);
  });
});
