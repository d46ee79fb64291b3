// The streaming DTMF detector against the whole-audio one: fed in pieces at random split points,
// it must give exactly the keys and times detectDtmf gives for the audio pushed so far, at every point.
import { describe, expect, it } from "vitest";
import { addNoise, dtmfSequence } from "../../client/testing/signals.js";
import { rng } from "../../testing/random.js";
import { detectDtmf, DtmfStream } from "./dtmf-detector.js";

const KEYS = "0123456789*#ABCD";

/** Random keys with random tone and gap lengths (some too short to count), levels and noise. */
function randomSignal(seed: number): Float32Array {
  const { uniform } = rng(seed);
  const parts: Float32Array[] = [];
  const count = 1 + Math.floor(uniform() * 6);
  for (let k = 0; k < count; k++) {
    const key = KEYS[Math.floor(uniform() * KEYS.length)] as string;
    const { audio } = dtmfSequence(uniform() < 0.3 ? key + key : key, {
      toneMs: 15 + Math.floor(uniform() * 120),
      gapMs: uniform() < 0.2 ? 5 + Math.floor(uniform() * 20) : 30 + Math.floor(uniform() * 300),
      leadMs: Math.floor(uniform() * 200),
      amplitude: 0.005 + uniform() * 0.4,
    });
    parts.push(audio);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const audio = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  const noise = uniform();
  if (noise < 0.5) addNoise(audio, noise * 0.02, seed);
  return audio;
}

/** Sorted random split points in [0, length], some of them repeated (empty pieces) or a sample apart. */
function splitPoints(length: number, seed: number): number[] {
  const { uniform } = rng(seed * 7919);
  const points = Array.from({ length: 1 + Math.floor(uniform() * 10) }, () => Math.floor(uniform() * (length + 1)));
  const near = points.map((p) => Math.min(length, p + 1));
  return [...points, ...near, length].sort((a, b) => a - b);
}

describe("DtmfStream", () => {
  it("gives exactly detectDtmf's keys for the audio so far, however the audio is split", () => {
    let keysSeen = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const audio = randomSignal(seed);
      const stream = new DtmfStream();
      let pushed = 0;
      for (const point of splitPoints(audio.length, seed)) {
        stream.push(audio.subarray(pushed, point));
        pushed = point;
        const expected = detectDtmf(audio.subarray(0, pushed));
        expect(stream.keys(), `seed ${seed}, after ${pushed} of ${audio.length} samples`).toEqual(expected);
        keysSeen += expected.length;
      }
    }
    // The signals must actually hold keys, or the comparison proves nothing.
    expect(keysSeen).toBeGreaterThan(100);
  });

  it("agrees after every piece of a stream cut into small random pieces", () => {
    for (let seed = 100; seed < 112; seed++) {
      const audio = randomSignal(seed);
      const { uniform } = rng(seed);
      const stream = new DtmfStream();
      for (let at = 0; at < audio.length; ) {
        const next = Math.min(audio.length, at + 1 + Math.floor(uniform() * 400));
        stream.push(audio.subarray(at, next));
        at = next;
        expect(stream.keys(), `seed ${seed}, after ${at} samples`).toEqual(detectDtmf(audio.subarray(0, at)));
      }
    }
  });

  it("gives the same keys fed 10 ms at a time as a live stream sends them", () => {
    const { audio, keys } = dtmfSequence("147*2580369#", { noise: 0.005 });
    const stream = new DtmfStream();
    for (let at = 0; at < audio.length; at += 160) stream.push(audio.subarray(at, at + 160));
    const found = stream.keys();
    expect(found).toEqual(detectDtmf(audio));
    expect(found.map((k) => k.key).join("")).toBe(keys.map((k) => k.key).join(""));
  });

  it("lets go of the audio and frames of settled keys, so a long sequence holds little", () => {
    const { audio } = dtmfSequence("1234567890", { gapMs: 500 });
    const stream = new DtmfStream();
    let most = 0;
    for (let round = 0; round < 10; round++) {
      for (let at = 0; at < audio.length; at += 320) {
        stream.push(audio.subarray(at, at + 320));
        most = Math.max(most, stream.retained.frames);
      }
    }
    expect(stream.keys()).toHaveLength(100);
    // 58 s of audio is 5800 frames; a tone and its edges are some 15.
    expect(most).toBeLessThan(40);
    expect(stream.retained.samples).toBeLessThan(400 + 320);
  });
});
