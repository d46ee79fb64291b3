// A DTMF (telephone keypad) tone detector: Goertzel filters at the eight ITU-T Q.23 frequencies,
// frame decisions with the usual Q.24-style checks, and keys timed to within a few milliseconds.
//
// Each frame (a Hann window, 25 ms by default, every 10 ms) measures the level of every row and
// column frequency. A frame shows a key when its strongest row and column tone
//   - are each above a minimum level,
//   - differ by no more than the allowed twist,
//   - stand out from the other rows / columns by a clear margin (relative peak),
//   - hold most of the frame's energy (speech and noise spread theirs over the band).
// Frames showing the same key join into a tone; one stray frame in noise does not split it, but the
// tone's own level falling by half does (a pause between two equal keys). The tone's start and end
// are where its level crosses half its steady level: with a symmetric window that happens exactly
// when the window's centre passes the edge, so interpolating between frame centres times the edge
// far more finely than the hop. Tones shorter than the minimum duration are dropped.

const ROWS = [697, 770, 852, 941] as const;
const COLS = [1209, 1336, 1477, 1633] as const;
const KEYPAD = ["123A", "456B", "789C", "*0#D"] as const;

export interface DtmfOptions {
  sampleRate: number;
  /** Analysis window, ms. */
  frameMs: number;
  /** Step between windows, ms. */
  hopMs: number;
  /** Shortest tone reported (between its half-level points), ms. */
  minToneMs: number;
  /** Weakest level of each of the two frequencies, dB relative to a full-scale sine. */
  minLevelDbfs: number;
  /** Largest level difference between the row and the column tone, dB, either way. */
  maxTwistDb: number;
  /** How far the strongest row (column) must exceed every other row (column), dB. */
  minPeakRatioDb: number;
  /** Share of the frame's energy the two tones must hold, 0–1. */
  minToneShare: number;
}

export const defaultDtmfOptions: DtmfOptions = {
  sampleRate: 16000,
  frameMs: 25,
  hopMs: 10,
  minToneMs: 30,
  minLevelDbfs: -40,
  maxTwistDb: 8,
  minPeakRatioDb: 10,
  minToneShare: 0.6,
};

/** One key press: its character and where its tone starts and ends, in seconds. */
export interface DtmfKey {
  key: string;
  start: number;
  end: number;
  /** How cleanly the tone stood out (its mean share of the energy), 0–1. */
  confidence: number;
}

interface Frame {
  /** Amplitude of each of the 8 frequencies (rows then columns), as a sine amplitude. */
  amplitudes: Float64Array;
  /** The key the frame shows, or -1. */
  key: number;
  /** The two tones' share of the frame's energy. */
  share: number;
}

/** The keys in `samples` (mono, `options.sampleRate`), in order. */
export function detectDtmf(samples: Float32Array, options: Partial<DtmfOptions> = {}): DtmfKey[] {
  const o = { ...defaultDtmfOptions, ...options };
  const frames = analyse(samples, o);
  const hopSeconds = Math.round((o.hopMs * o.sampleRate) / 1000) / o.sampleRate;
  const keys: DtmfKey[] = [];
  let previousEnd = -1;
  for (const run of joinFrames(frames)) {
    const level = (i: number) => keyAmplitude(frames[i] as Frame, run.key);
    const steady = median(range(run.first, run.last).map(level));
    const half = steady / 2;
    // Walk outwards from the run to the frames where the tone's level falls below half.
    let before = run.first;
    while (before > previousEnd + 1 && before > 0 && level(before - 1) >= half) before--;
    let after = run.last;
    while (after < frames.length - 1 && level(after + 1) >= half) after++;
    previousEnd = after;
    const crossing = (below: number, above: number) => {
      if (below < 0 || below >= frames.length) return above;
      const a = level(below);
      const b = level(above);
      const t = b === a ? 1 : Math.min(1, Math.max(0, (half - a) / (b - a)));
      return below + (above - below) * t;
    };
    const start = crossing(before - 1, before) * hopSeconds;
    const end = crossing(after + 1, after) * hopSeconds;
    if ((end - start) * 1000 < o.minToneMs) continue;
    const shares = range(run.first, run.last)
      .filter((i) => (frames[i] as Frame).key === run.key)
      .map((i) => (frames[i] as Frame).share);
    keys.push({
      key: keyName(run.key),
      start: Math.max(0, start),
      end: Math.min(samples.length / o.sampleRate, end),
      confidence: Math.min(1, shares.reduce((a, b) => a + b, 0) / shares.length),
    });
  }
  return keys;
}

/**
 * One frame per hop, centred on sample `i * hop`, the window reaching half a frame either side
 * (zeros beyond the ends), so that frame centres line up with time zero.
 */
function analyse(samples: Float32Array, o: DtmfOptions): Frame[] {
  const size = Math.round((o.frameMs * o.sampleRate) / 1000);
  const hop = Math.round((o.hopMs * o.sampleRate) / 1000);
  const window = new Float64Array(size);
  for (let n = 0; n < size; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 0.5)) / size);
  const windowSum = window.reduce((a, b) => a + b, 0);
  const windowPower = window.reduce((a, b) => a + b * b, 0);
  const freqs = [...ROWS, ...COLS];
  const coefficients = freqs.map((f) => 2 * Math.cos((2 * Math.PI * f) / o.sampleRate));
  const minPower = 0.5 * 10 ** (o.minLevelDbfs / 10);
  const maxTwist = 10 ** (o.maxTwistDb / 10);
  const peakRatio = 10 ** (o.minPeakRatioDb / 10);
  const count = Math.ceil(samples.length / hop) + 1;
  const frames: Frame[] = [];
  const x = new Float64Array(size);
  const powers = new Float64Array(8);
  for (let i = 0; i < count; i++) {
    const from = i * hop - Math.floor(size / 2);
    let energy = 0;
    for (let n = 0; n < size; n++) {
      const at = from + n;
      const v = at >= 0 && at < samples.length ? (samples[at] as number) * (window[n] as number) : 0;
      x[n] = v;
      energy += v * v;
    }
    const amplitudes = new Float64Array(8);
    for (let k = 0; k < 8; k++) {
      const c = coefficients[k] as number;
      let s1 = 0;
      let s2 = 0;
      for (let n = 0; n < size; n++) {
        const s0 = (x[n] as number) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const magnitudeSquared = Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2);
      // |X| of a sine of amplitude A under the window is A·Σw/2.
      const amplitude = (2 * Math.sqrt(magnitudeSquared)) / windowSum;
      amplitudes[k] = amplitude;
      powers[k] = (amplitude * amplitude) / 2;
    }
    const row = argmax(powers, 0, 4);
    const col = argmax(powers, 4, 8);
    const rowPower = powers[row] as number;
    const colPower = powers[col] as number;
    const meanPower = energy / windowPower;
    const share = meanPower > 0 ? (rowPower + colPower) / meanPower : 0;
    let key = -1;
    if (
      rowPower >= minPower &&
      colPower >= minPower &&
      rowPower <= colPower * maxTwist &&
      colPower <= rowPower * maxTwist &&
      standsOut(powers, row, 0, 4, peakRatio) &&
      standsOut(powers, col, 4, 8, peakRatio) &&
      share >= o.minToneShare
    ) {
      key = row * 4 + (col - 4);
    }
    frames.push({ amplitudes, key, share });
  }
  return frames;
}

interface Run {
  key: number;
  first: number;
  last: number;
}

/**
 * Consecutive frames showing one key. A frame that does not show it ends the run when the key's
 * own level there has fallen below half the run's peak (the tone stopped) or when a second such
 * frame follows (the tone is lost); a single weak frame in noise is bridged.
 */
function joinFrames(frames: Frame[]): Run[] {
  const runs: Run[] = [];
  let run: Run | undefined;
  let peak = 0;
  let misses = 0;
  frames.forEach((frame, i) => {
    if (run && frame.key === run.key) {
      run.last = i;
      misses = 0;
      peak = Math.max(peak, keyAmplitude(frame, run.key));
      return;
    }
    if (run) {
      misses++;
      if (frame.key >= 0 || keyAmplitude(frame, run.key) < peak / 2 || misses > 1) {
        runs.push(run);
        run = undefined;
      }
    }
    if (!run && frame.key >= 0) {
      run = { key: frame.key, first: i, last: i };
      peak = keyAmplitude(frame, frame.key);
      misses = 0;
    }
  });
  if (run) runs.push(run);
  return runs;
}

/** The mean amplitude of a key's row and column tone in a frame. */
function keyAmplitude(frame: Frame, key: number): number {
  return ((frame.amplitudes[Math.floor(key / 4)] as number) + (frame.amplitudes[4 + (key % 4)] as number)) / 2;
}

function keyName(key: number): string {
  return (KEYPAD[Math.floor(key / 4)] as string)[key % 4] as string;
}

function argmax(values: Float64Array, from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function standsOut(powers: Float64Array, best: number, from: number, to: number, ratio: number): boolean {
  for (let i = from; i < to; i++) {
    if (i !== best && (powers[best] as number) < (powers[i] as number) * ratio) return false;
  }
  return true;
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
