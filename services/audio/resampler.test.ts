import { describe, expect, test } from "vitest";
import { Resampler } from "./resampler.js";
import { dB, maxAbsDifference, toneAmplitude } from "./test-audio.js";

function sine(rate: number, frequency: number, seconds = 1, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));
}

function resampleAll(input: Float32Array, inRate: number, chunkSize = input.length): Float32Array {
  const r = new Resampler(inRate);
  const parts: Float32Array[] = [];
  for (let i = 0; i < input.length; i += chunkSize) parts.push(r.process(input.subarray(i, i + chunkSize)));
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function gainDb(inRate: number, frequency: number, measuredAt = frequency): number {
  const out = resampleAll(sine(inRate, frequency), inRate);
  return dB(toneAmplitude(out, measuredAt) / 0.5);
}

describe("anti-alias low-pass", () => {
  test.each([48000, 44100])("%i Hz → 16 kHz: a 7 kHz tone passes, a 12 kHz tone is attenuated by more than 40 dB", (rate) => {
    expect(Math.abs(gainDb(rate, 7000))).toBeLessThan(0.1);
    expect(Math.abs(gainDb(rate, 1000))).toBeLessThan(0.1);
    // A 12 kHz tone sampled at 16 kHz would fold back to 4 kHz.
    expect(gainDb(rate, 12000, 4000)).toBeLessThan(-40);
    const out = resampleAll(sine(rate, 12000), rate);
    const rms = Math.sqrt(out.reduce((s, x) => s + x * x, 0) / out.length);
    expect(dB(rms / (0.5 / Math.SQRT2))).toBeLessThan(-40);
  });

  // The telephone half-band: passband to 3.4 kHz, stopband from 4.6 kHz, 80 dB by design.
  test.each([300, 1000, 2000, 3000, 3400])("8 kHz → 16 kHz: a %i Hz tone (telephone band) passes within 0.01 dB and its image is 75 dB down", (frequency) => {
    expect(Math.abs(gainDb(8000, frequency))).toBeLessThan(0.01);
    expect(gainDb(8000, frequency, 8000 - frequency)).toBeLessThan(-75);
  });

  test("an odd rate (44 101 Hz, rounded phases) still passes 7 kHz and stops 12 kHz", () => {
    expect(Math.abs(gainDb(44101, 7000))).toBeLessThan(0.1);
    expect(gainDb(44101, 12000, 4000)).toBeLessThan(-40);
  });
});

describe("timing", () => {
  test.each([8000, 11025, 22050, 32000, 44100, 48000])("%i Hz: output length is ceil(n·16000/rate) and an impulse stays at its instant", (rate) => {
    const input = new Float32Array(Math.round(rate * 0.5) + 7);
    const at = Math.round(rate * 0.25);
    input[at] = 1;
    const out = resampleAll(input, rate);
    expect(out.length).toBe(Math.ceil((input.length * 16000) / rate));
    let peak = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[peak]!) peak = i;
    expect(Math.abs(peak - (at * 16000) / rate)).toBeLessThanOrEqual(0.5);
  });

  test("DC passes unchanged", () => {
    const out = resampleAll(new Float32Array(44100).fill(0.25), 44100);
    for (const x of out.subarray(1000, 15000)) expect(x).toBeCloseTo(0.25, 5);
  });

  test("16 kHz passes through untouched", () => {
    const input = sine(16000, 440);
    expect(resampleAll(input, 16000, 320)).toEqual(input);
  });
});

describe("chunking", () => {
  test.each([8000, 11025, 44100, 48000, 44101])("%i Hz: 20 ms chunks, odd chunks and single samples give exactly the whole-buffer output", (rate) => {
    const input = sine(rate, 440, 0.3);
    for (let i = 0; i < input.length; i++) input[i]! += 0.1 * Math.sin(i * i * 1e-3); // not periodic
    const whole = resampleAll(input, rate);
    for (const size of [Math.round(rate * 0.02), 37, 1]) {
      const chunked = resampleAll(input, rate, size);
      expect(chunked.length).toBe(whole.length);
      expect(maxAbsDifference(chunked, whole)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe("8 kHz → 16 kHz, the half-band", () => {
  // The taps, read off the impulse response: output 2i+1 of an impulse at input p is the coefficient of x[p].
  function halfBandTaps(): Float32Array {
    const impulse = new Float32Array(200);
    impulse[100] = 1;
    const out = resampleAll(impulse, 8000);
    // Output 2i+1 = Σ_k c_k·(x[i−16+k] + x[i+17−k]): x[100] meets c_k at i = 116 − k.
    return Float32Array.from({ length: 17 }, (_, k) => out[2 * (116 - k) + 1]!);
  }

  test("each even output is its input sample and each odd one the 34-tap sum added in order, bit for bit, whatever the chunking", () => {
    const c = halfBandTaps();
    const input = sine(8000, 440, 0.25);
    for (let i = 0; i < input.length; i++) input[i]! += 0.1 * Math.sin(i * i * 1e-3);
    input[7] = -0; // a signed zero must come out as it would from the one-at-a-time sum
    const x = (i: number) => (i >= 0 && i < input.length ? input[i]! : 0);
    const expected = new Float32Array(2 * input.length);
    for (let i = 0; i < input.length; i++) {
      expected[2 * i] = input[i]!;
      let sum = c[0]! * (x(i - 16) + x(i + 17));
      for (let k = 1; k < 17; k++) sum += c[k]! * (x(i - 16 + k) + x(i + 17 - k));
      expected[2 * i + 1] = sum;
    }
    // Whole, 20 ms frames, and sizes that leave an odd number of output pairs in a call.
    for (const size of [input.length, 160, 1, 3, 37]) expect(resampleAll(input, 8000, size)).toEqual(expected);
  });
});
