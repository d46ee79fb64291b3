// Checkpoints, what lets a session move to another replica without losing or repeating anything:
// a checkpoint is told only where every channel is between utterances, with every output for the
// audio before it already numbered; and a fresh session started at a checkpoint's sample produces
// exactly the outputs the first one produced after it (same words, same channels, same times once
// shifted). Synthetic stereo audio, the real energy gate, a recogniser that names each burst by
// its amplitude.
import { describe, expect, it } from "vitest";
import { energyGate } from "./gate.js";
import type { TimedWord } from "./local-agreement.js";
import { RecognitionSession, type SessionCheckpoint } from "./session.js";
import { defaultEngineSettings, type AsrFunction, type EngineOutput } from "./types.js";

const RATE = 16_000;

/** [amplitude, ms] pieces; amplitude 0 is silence, others a 440 Hz sine. */
function audio(...pieces: Array<[number, number]>): Float32Array {
  const out = new Float32Array(pieces.reduce((n, [, ms]) => n + (ms * RATE) / 1000, 0));
  let at = 0;
  for (const [amp, ms] of pieces) {
    const n = (ms * RATE) / 1000;
    for (let i = 0; i < n; i++) out[at + i] = amp * Math.sin((2 * Math.PI * 440 * i) / RATE);
    at += n;
  }
  return out;
}

/** One word per burst, named after its amplitude, timed where it is. */
const asr: AsrFunction = async (samples) => {
  const words: TimedWord[] = [];
  let start: number | undefined;
  let peak = 0;
  for (let w = 0; w * 160 < samples.length; w++) {
    let p = 0;
    for (let i = w * 160; i < Math.min((w + 1) * 160, samples.length); i++) p = Math.max(p, Math.abs(samples[i]!));
    if (p > 0.05) {
      start ??= w * 160;
      peak = Math.max(peak, p);
    }
    if ((p <= 0.05 || (w + 1) * 160 >= samples.length) && start !== undefined) {
      words.push({ word: `w${Math.round(peak * 10)}`, start: start / RATE, end: (p <= 0.05 ? w * 160 : samples.length) / RATE, probability: 0.9, separator: " " });
      start = undefined;
      peak = 0;
    }
  }
  return words;
};

/**
 * Runs a stereo session over `channels` in 20 ms chunks, each taken in before the next arrives (as
 * in real time: a session written faster scores several chunks at once, and checkpoints fall only
 * where such a batch ends); its outputs and checkpoints.
 */
async function run(channels: [Float32Array, Float32Array]) {
  const checkpoints: SessionCheckpoint[] = [];
  const settings = { ...defaultEngineSettings, channels: 2, voiceActivityEvents: true, interimResults: false, silenceMs: 400 };
  const session = new RecognitionSession(settings, { asr, gate: () => energyGate(), onCheckpoint: (c) => checkpoints.push(c) });
  const outputs: EngineOutput[] = [];
  const reading = (async () => {
    for await (const o of session.outputs) outputs.push(o);
  })();
  const chunk = RATE / 50;
  for (let at = 0; at < channels[0].length; at += chunk) {
    await session.write(channels.map((c) => c.subarray(at, at + chunk)));
    await new Promise(setImmediate);
  }
  await session.close();
  await reading;
  return { outputs, checkpoints };
}

/** An output as a comparable line, its times shifted by `offset` seconds. */
function line(o: EngineOutput, offset = 0): string {
  const t = (s: number) => (s + offset).toFixed(3);
  if (o.kind === "event") return `${o.event.channel} ${o.event.type} ${t(o.event.offsetSeconds)}`;
  return `${o.result.channel} ${o.result.isFinal ? "final" : "interim"} ${o.result.transcript} ${t(o.result.startSeconds)}-${t(o.result.endSeconds)}`;
}

describe("session checkpoints", () => {
  // Left: two turns; right: one turn overlapping the end of the left's first; long silences between.
  const left = audio([0, 500], [0.3, 300], [0, 200], [0.4, 300], [0, 2500], [0.6, 400], [0, 2000]);
  const right = audio([0, 1100], [0.7, 600], [0, 2000], [0, 2000], [0.8, 200], [0, 300]);

  it("falls only where both channels are between utterances, after every output for the audio before it", async () => {
    const { outputs, checkpoints } = await run([left, right]);
    expect(outputs.map((o) => line(o))).toEqual([
      "1 speech_begin 0.480",
      "2 speech_begin 1.088",
      "1 speech_end 1.312",
      "1 final w3 w4 0.288-1.512",
      "2 speech_end 1.728",
      "2 final w7 0.896-1.928",
      "1 speech_begin 3.776",
      "1 speech_end 4.224",
      "1 final w6 3.584-4.424",
      "2 speech_begin 5.696",
      "2 speech_end 5.920",
      "2 final w8 5.504-6.120",
    ]);
    // After both first turns, in the silence, after the left's second turn, in the silence; none once the right speaks again.
    expect(checkpoints.map((c) => [c.sample / RATE, c.nextIndex])).toEqual([
      [2.144, 6],
      [3.168, 6],
      [4.64, 9],
      [5.664, 9],
    ]);
    // Where each channel was inside an utterance, from its speech_begin to its speech_end + the endpoint.
    const spans = outputs.flatMap((o) => (o.kind === "event" && o.event.type === "speech_begin" ? [{ channel: o.event.channel, from: o.event.offsetSeconds, index: o.index }] : []));
    for (const c of checkpoints) {
      const at = c.sample / RATE;
      // Every output numbered below nextIndex is for audio before the checkpoint, every later one after it.
      for (const o of outputs) {
        const time = o.kind === "event" ? o.event.offsetSeconds : o.result.startSeconds;
        if (o.index < c.nextIndex) expect(time).toBeLessThanOrEqual(at);
        else expect(time).toBeGreaterThanOrEqual(at - 0.2); // an utterance's start includes its preroll
      }
      for (const s of spans) {
        const end = outputs.find((o) => o.index > s.index && o.kind === "result" && o.result.isFinal && o.result.channel === s.channel);
        if (end) expect(at <= s.from || at >= (end as { result: { endSeconds: number } }).result.endSeconds).toBe(true);
      }
    }
    for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i]!.sample).toBeGreaterThan(checkpoints[i - 1]!.sample);
  });

  it("a fresh session started at a checkpoint goes on exactly as the first one did", async () => {
    const first = await run([left, right]);
    // A checkpoint in the long silence in the middle, after the first turns' outputs.
    const middle = first.checkpoints.find((c) => c.nextIndex > 0 && c.sample > 2.5 * RATE)!;
    expect(middle).toBeDefined();
    const second = await run([left.subarray(middle.sample), right.subarray(middle.sample)]);
    const offset = middle.sample / RATE;
    const after = first.outputs.filter((o) => o.index >= middle.nextIndex).map((o) => line(o));
    expect(second.outputs.map((o) => line(o, offset))).toEqual(after);
    expect(after.length).toBeGreaterThan(0);
  });
});
