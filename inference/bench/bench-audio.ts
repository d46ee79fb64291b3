// Test audio for `npm run bench:inference`, 16 kHz mono FP32 as every model takes it, cut into
// clips (one request each). Generated, never read from fixtures: Arabic from espeak-ng when it is
// installed, otherwise synthetic voiced bursts; DTMF from the client's own test signals.
import { spawnSync } from "node:child_process";
import { addNoise, dtmfSequence } from "../client/testing/signals.js";

const SAMPLE_RATE = 16_000;

export interface BenchAudio {
  clips: Float32Array[];
  seconds: number;
  /** Where the audio came from, for the report. */
  source: string;
}

/** Cuts `audio`, repeated as needed, into clips of at most `clipSeconds` that add up to `seconds`. */
function tile(audio: Float32Array, seconds: number, clipSeconds: number): Float32Array[] {
  const total = Math.round(seconds * SAMPLE_RATE);
  const clipSamples = Math.round(clipSeconds * SAMPLE_RATE);
  const clips: Float32Array[] = [];
  for (let start = 0; start < total; start += clipSamples) {
    const clip = new Float32Array(Math.min(clipSamples, total - start));
    for (let i = 0; i < clip.length; i++) clip[i] = audio[(start + i) % audio.length]!;
    clips.push(clip);
  }
  return clips;
}

/** A deterministic uniform generator in [0, 1) (xorshift32), so every run benches the same audio. */
function uniformFrom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const ARABIC_TEXT =
  "مرحبا بكم في منصة تحويل الكلام العربي إلى نص. يقيس هذا الاختبار سرعة كشف الكلام على المعالج. " +
  "نرجو منكم الانتظار قليلا، سيتصل بكم أحد موظفي خدمة العملاء بعد دقيقة واحدة.";

/** Speech for the VAD: espeak-ng Arabic when the command exists, else synthetic voiced bursts. */
export function speechAudio(seconds: number, clipSeconds: number): BenchAudio {
  const spoken = spawnSync("espeak-ng", ["-v", "ar", "-s", "150", "--stdout", ARABIC_TEXT], { maxBuffer: 64 * 1024 * 1024 });
  if (spoken.status === 0 && spoken.stdout.length > 44) {
    const utterance = resampleLinear(...wavSamples(spoken.stdout), SAMPLE_RATE);
    const utteranceSeconds = utterance.length / SAMPLE_RATE;
    return {
      clips: tile(utterance, seconds, clipSeconds),
      seconds,
      source: `espeak-ng Arabic (one ${utteranceSeconds.toFixed(1)} s utterance, repeated)`,
    };
  }
  return { clips: tile(voicedBursts(60), seconds, clipSeconds), seconds, source: "synthetic voiced bursts (espeak-ng not found)" };
}

/**
 * Syllable-like bursts: harmonics of a 100-220 Hz pitch shaped by two formant peaks, a 4-6 Hz
 * syllable envelope and some breath noise, 0.3-1.2 s long, between 0.2-0.8 s pauses of faint noise.
 * The VAD's cost per frame does not depend on what the frame holds; this only keeps its
 * probabilities from being all zero.
 */
function voicedBursts(seconds: number): Float32Array {
  const random = uniformFrom(7);
  const audio = new Float32Array(seconds * SAMPLE_RATE);
  let at = 0;
  while (at < audio.length) {
    at += Math.round((0.2 + 0.6 * random()) * SAMPLE_RATE);
    const length = Math.min(Math.round((0.3 + 0.9 * random()) * SAMPLE_RATE), audio.length - at);
    const f0 = 100 + 120 * random();
    const syllableHz = 4 + 2 * random();
    const formants = [400 + 500 * random(), 1100 + 1200 * random()];
    const harmonics: { hz: number; gain: number }[] = [];
    for (let hz = f0; hz < 3500; hz += f0) {
      const gain = formants.reduce((sum, f) => sum + 1 / (1 + ((hz - f) / 150) ** 2), 0) / (1 + hz / 1000);
      harmonics.push({ hz, gain });
    }
    for (let i = 0; i < length; i++) {
      const t = i / SAMPLE_RATE;
      const envelope = Math.sin(Math.PI * (i / length)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * syllableHz * t));
      let sample = 0;
      for (const h of harmonics) sample += h.gain * Math.sin(2 * Math.PI * h.hz * t);
      audio[at + i] = 0.15 * envelope * sample + 0.01 * (random() - 0.5);
    }
    at += length;
  }
  return addNoise(audio, 0.002, 11);
}

/** 16-bit PCM samples of a mono WAV and its sample rate (espeak-ng writes 22050 Hz). */
function wavSamples(wav: Buffer): [Float32Array, number] {
  let sampleRate = 22_050;
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString("ascii", offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === "fmt ") sampleRate = wav.readUInt32LE(offset + 12);
    if (id === "data") {
      // Written to a pipe, the header cannot be patched afterwards: the size may be a placeholder.
      const end = Math.min(wav.length, offset + 8 + size) & ~1;
      const samples = new Float32Array((end - offset - 8) / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = wav.readInt16LE(offset + 8 + 2 * i) / 32768;
      return [samples, sampleRate];
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error("espeak-ng wrote a WAV without a data chunk");
}

/** Linear interpolation: plenty for a VAD throughput input, not for listening. */
function resampleLinear(samples: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(Math.floor((samples.length * to) / from));
  for (let i = 0; i < out.length; i++) {
    const x = (i * from) / to;
    const j = Math.floor(x);
    const next = samples[Math.min(j + 1, samples.length - 1)]!;
    out[i] = samples[j]! + (x - j) * (next - samples[j]!);
  }
  return out;
}

function shuffled(text: string, random: () => number): string {
  const chars = [...text];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}

export interface DtmfAudio extends BenchAudio {
  /** Keys dialled in each clip, in order, for checking what the model hears. */
  keys: string[];
}

/** Clips of back-to-back 16-key sequences (each key once, in a different order each time) in white noise. */
export function dtmfAudio(seconds: number, clipSeconds: number, noise: number): DtmfAudio {
  const random = uniformFrom(3);
  const clips: Float32Array[] = [];
  const keys: string[] = [];
  let left = Math.round(seconds * SAMPLE_RATE);
  while (left > 0) {
    const clip = new Float32Array(Math.min(left, Math.round(clipSeconds * SAMPLE_RATE)));
    let dialled = "";
    for (let at = 0; ; ) {
      const order = shuffled("123A456B789C*0#D", random);
      const { audio } = dtmfSequence(order);
      if (at + audio.length > clip.length) break;
      clip.set(audio, at);
      dialled += order;
      at += audio.length;
    }
    clips.push(addNoise(clip, noise, clips.length + 1));
    keys.push(dialled);
    left -= clip.length;
  }
  return { clips, keys, seconds, source: `16-key sequences (80 ms tones, 80 ms gaps) in white noise of sd ${noise}` };
}
