// Generated test audio for the client's tests and bench: 16 kHz mono FP32, as every model takes it.
import { rng } from "../../testing/random.js";

/** Row and column frequencies (Hz) of each telephone key, ITU-T Q.23. */
const keypad: Record<string, [number, number]> = {};
const rows = [697, 770, 852, 941];
const columns = [1209, 1336, 1477, 1633];
["123A", "456B", "789C", "*0#D"].forEach((keys, r) => [...keys].forEach((key, c) => (keypad[key] = [rows[r]!, columns[c]!])));

export interface DtmfOptions {
  sampleRate?: number;
  toneMs?: number;
  gapMs?: number;
  /** Silence before the first tone. */
  leadMs?: number;
  /** Peak of each of the two sines. */
  amplitude?: number;
  /** Standard deviation of added white noise (0: none). */
  noise?: number;
}

export interface DtmfSignal {
  audio: Float32Array;
  /** Each key with the seconds its tone starts and ends. */
  keys: { key: string; start: number; end: number }[];
}

/** A dialled key sequence: each key's two sines for `toneMs`, `gapMs` of silence between keys. */
export function dtmfSequence(keys: string, options: DtmfOptions = {}): DtmfSignal {
  const { sampleRate = 16_000, toneMs = 80, gapMs = 80, leadMs = 100, amplitude = 0.3, noise = 0 } = options;
  const samplesOf = (ms: number) => Math.round((ms * sampleRate) / 1000);
  const total = samplesOf(leadMs) + [...keys].length * (samplesOf(toneMs) + samplesOf(gapMs));
  const audio = new Float32Array(total);
  const timed: DtmfSignal["keys"] = [];
  let at = samplesOf(leadMs);
  for (const key of keys) {
    const pair = keypad[key];
    if (!pair) throw new Error(`no DTMF key ${JSON.stringify(key)}`);
    const [low, high] = pair;
    for (let i = 0; i < samplesOf(toneMs); i++) {
      const t = i / sampleRate;
      audio[at + i] = amplitude * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t));
    }
    timed.push({ key, start: at / sampleRate, end: (at + samplesOf(toneMs)) / sampleRate });
    at += samplesOf(toneMs) + samplesOf(gapMs);
  }
  if (noise > 0) addNoise(audio, noise);
  return { audio, keys: timed };
}

/** Adds Gaussian white noise in place (deterministic: a fixed-seed generator). */
export function addNoise(audio: Float32Array, sd: number, seed = 1): Float32Array {
  const { normal } = rng(seed);
  for (let i = 0; i < audio.length; i++) audio[i] = audio[i]! + sd * normal();
  return audio;
}
