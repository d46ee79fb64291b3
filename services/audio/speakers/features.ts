// Weights-free speaker features, for diarizing mono audio where no speaker-embedding model is installed
// (batch: services/jobs/pipeline/diarize.ts; live: online.ts beside this file):
// MFCCs (25 ms frames every 10 ms, 24 mel bands between 100 and 3800 Hz, so that telephone audio and
// wideband audio are described by the same band), mean-normalised over the whole recording so that the
// channel's colouring cancels out, and summarised per window as the mean and standard deviation of
// coefficients 1–16 over the window's voiced frames. Two voices differ mostly in their vocal tract's
// resonances, which these describe; they are far weaker than a trained embedding (they also follow what is
// said), which is why they are the fallback and not the default.
import { MODEL_SAMPLE_RATE } from "../rates.js";

const FRAME = 400; // 25 ms at 16 kHz
const HOP = 160; // 10 ms
const FFT_SIZE = 512;
const MEL_BANDS = 24;
const COEFFICIENTS = 16;
const LOW_HZ = 100;
const HIGH_HZ = 3800;
/** Frames quieter than this far below the loudest frame of the recording are pauses, left out of the statistics. */
const VOICED_DB_BELOW_PEAK = 35;

export const FRAME_SECONDS = HOP / MODEL_SAMPLE_RATE;

/** MFCCs of every frame, and which frames are loud enough to be speech. */
export interface Cepstra {
  /** Frame i starts at i · FRAME_SECONDS; coefficients 1..COEFFICIENTS, recording mean removed. */
  frames: Float32Array[];
  voiced: boolean[];
}

const hz2mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const mel2hz = (mel: number) => 700 * (10 ** (mel / 2595) - 1);

/** Triangular mel filters over the FFT bins. */
function melFilters(): Float32Array[] {
  const bins = FFT_SIZE / 2 + 1;
  const low = hz2mel(LOW_HZ);
  const high = hz2mel(HIGH_HZ);
  const edges = Array.from({ length: MEL_BANDS + 2 }, (_, i) => (mel2hz(low + ((high - low) * i) / (MEL_BANDS + 1)) * FFT_SIZE) / MODEL_SAMPLE_RATE);
  return Array.from({ length: MEL_BANDS }, (_, m) => {
    const filter = new Float32Array(bins);
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    for (let k = 0; k < bins; k++) {
      if (k > left && k <= centre) filter[k] = (k - left) / (centre - left);
      else if (k > centre && k < right) filter[k] = (right - k) / (right - centre);
    }
    return filter;
  });
}

/** In-place radix-2 FFT of (re, im). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/**
 * The MFCCs of 16 kHz mono `audio`, every 10 ms. `meanNormalise: false` leaves the mean in: live
 * diarization sees a recording a piece at a time, and standardises its windows' statistics instead (the
 * mean a whole recording would remove is then removed with the windows' mean).
 */
export function cepstra(audio: Float32Array, options: { meanNormalise?: boolean } = {}): Cepstra {
  const filters = melFilters();
  const window = Float64Array.from({ length: FRAME }, (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME - 1)));
  const dct = Array.from({ length: COEFFICIENTS }, (_, c) => Float64Array.from({ length: MEL_BANDS }, (_, m) => Math.cos((Math.PI * (c + 1) * (m + 0.5)) / MEL_BANDS)));
  const count = audio.length < FRAME ? 0 : 1 + Math.floor((audio.length - FRAME) / HOP);
  const frames: Float32Array[] = [];
  const energies: number[] = [];
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const logMel = new Float64Array(MEL_BANDS);
  for (let f = 0; f < count; f++) {
    re.fill(0);
    im.fill(0);
    let energy = 0;
    let previous = f * HOP > 0 ? audio[f * HOP - 1]! : 0;
    for (let i = 0; i < FRAME; i++) {
      const x = audio[f * HOP + i]!;
      // Pre-emphasis, as speech front ends do: the upper formants weigh as much as the first.
      re[i] = (x - 0.97 * previous) * window[i]!;
      previous = x;
      energy += x * x;
    }
    energies.push(10 * Math.log10(energy / FRAME + 1e-12));
    fft(re, im);
    for (let m = 0; m < MEL_BANDS; m++) {
      const filter = filters[m]!;
      let sum = 0;
      for (let k = 0; k < filter.length; k++) if (filter[k]) sum += filter[k]! * (re[k]! * re[k]! + im[k]! * im[k]!);
      logMel[m] = Math.log(sum + 1e-10);
    }
    frames.push(Float32Array.from(dct, (basis) => basis.reduce((s, b, m) => s + b * logMel[m]!, 0)));
  }
  const peak = energies.length > 0 ? Math.max(...energies) : 0;
  const voiced = energies.map((e) => e > peak - VOICED_DB_BELOW_PEAK);
  if (options.meanNormalise === false) return { frames, voiced };
  // The recording's mean over its voiced frames removed (cepstral mean normalisation).
  const mean = new Float64Array(COEFFICIENTS);
  let n = 0;
  frames.forEach((frame, f) => {
    if (!voiced[f]) return;
    n++;
    for (let c = 0; c < COEFFICIENTS; c++) mean[c]! += frame[c]!;
  });
  if (n > 0) for (const frame of frames) for (let c = 0; c < COEFFICIENTS; c++) frame[c]! -= mean[c]! / n;
  return { frames, voiced };
}

/**
 * One feature vector for the audio between `start` and `end` seconds: the mean and standard deviation of
 * each coefficient over its voiced frames (all its frames when none is voiced).
 */
export function windowFeatures(cepstra: Cepstra, start: number, end: number): Float32Array {
  const from = Math.max(0, Math.floor(start / FRAME_SECONDS));
  const to = Math.min(cepstra.frames.length, Math.max(from + 1, Math.ceil(end / FRAME_SECONDS)));
  let picked = [];
  for (let f = from; f < to; f++) if (cepstra.voiced[f]) picked.push(cepstra.frames[f]!);
  if (picked.length === 0) picked = cepstra.frames.slice(from, to);
  const out = new Float32Array(2 * COEFFICIENTS);
  if (picked.length === 0) return out;
  for (let c = 0; c < COEFFICIENTS; c++) {
    let sum = 0;
    let squares = 0;
    for (const frame of picked) {
      sum += frame[c]!;
      squares += frame[c]! * frame[c]!;
    }
    const mean = sum / picked.length;
    out[c] = mean;
    out[COEFFICIENTS + c] = Math.sqrt(Math.max(0, squares / picked.length - mean * mean));
  }
  return out;
}

/** Each dimension scaled to zero mean and unit variance over `vectors`, so that no coefficient dominates the distances. */
export function standardize(vectors: readonly Float32Array[]): Float32Array[] {
  if (vectors.length === 0) return [];
  const dims = vectors[0]!.length;
  const mean = new Float64Array(dims);
  const variance = new Float64Array(dims);
  for (const v of vectors) for (let d = 0; d < dims; d++) mean[d]! += v[d]! / vectors.length;
  for (const v of vectors) for (let d = 0; d < dims; d++) variance[d]! += (v[d]! - mean[d]!) ** 2 / vectors.length;
  return vectors.map((v) => Float32Array.from(v, (x, d) => (x - mean[d]!) / Math.sqrt(variance[d]! + 1e-9)));
}

/** The samples of `span` (in seconds, at the model rate), widened around its middle to at least `minSamples` (within the audio). */
export function sliceAtLeast(audio: Float32Array, span: { start: number; end: number }, minSamples: number): Float32Array {
  let from = Math.max(0, Math.floor(span.start * MODEL_SAMPLE_RATE));
  let to = Math.min(audio.length, Math.ceil(span.end * MODEL_SAMPLE_RATE));
  if (to - from < minSamples) {
    const middle = (from + to) / 2;
    from = Math.max(0, Math.round(middle - minSamples / 2));
    to = Math.min(audio.length, from + minSamples);
    from = Math.max(0, to - minSamples);
  }
  return audio.subarray(from, to);
}
