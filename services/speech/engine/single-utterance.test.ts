// single_utterance stops the session after its first utterance, however much audio is already queued
// behind it: a slow model keeps the first final pending while the rest of the call waits in the
// channel's queue, and none of it may become a second utterance. (A channel that saw a copy of the
// session's `stopped` flag instead of the flag itself once went on to a second utterance here.)
import { describe, expect, it } from "vitest";
import { energyGate } from "./gate.js";
import { RecognitionSession } from "./session.js";
import { defaultEngineSettings, type AsrFunction, type EngineOutput } from "./types.js";

const RATE = 16_000;

function tone(ms: number, amp = 0.5): Float32Array {
  const n = (ms * RATE) / 1000;
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / RATE));
}

describe("single utterance", () => {
  it("ends after the first utterance even with more speech queued behind it", async () => {
    const slowAsr: AsrFunction = async (samples) => {
      await new Promise((r) => setTimeout(r, 50));
      return [{ word: `w${Math.round(samples.length / 1600)}`, start: 0, end: samples.length / RATE, probability: 0.9, separator: " " }];
    };
    const settings = { ...defaultEngineSettings, singleUtterance: true, voiceActivityEvents: true, silenceMs: 300, inputCapacity: 1000 };
    const session = new RecognitionSession(settings, { asr: slowAsr, gate: () => energyGate() });
    const outputs: EngineOutput[] = [];
    const reading = (async () => {
      for await (const o of session.outputs) outputs.push(o);
    })();
    const call = [new Float32Array(RATE / 5), tone(400), new Float32Array(RATE / 2), tone(400), new Float32Array(RATE / 2)];
    for (const piece of call) for (let at = 0; at < piece.length; at += 320) await session.write([piece.subarray(at, at + 320)]);
    await session.close();
    await reading;
    const kinds = outputs.map((o) => (o.kind === "event" ? o.event.type : o.result.isFinal ? "final" : "partial"));
    expect(kinds).toEqual(["speech_begin", "speech_end", "end_of_single_utterance", "final"]);
  });
});
