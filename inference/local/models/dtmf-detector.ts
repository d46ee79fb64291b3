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
  const analyser = new FrameAnalyser(o);
  const count = analyser.frameCount(samples.length);
  const frames = Array.from({ length: count }, (_, i) => analyser.frame(i, samples, 0, samples.length));
  const joiner = new RunJoiner();
  const runs: Run[] = [];
  frames.forEach((frame, i) => {
    const closed = joiner.feed(frame, i);
    if (closed) runs.push(closed);
  });
  if (joiner.open) runs.push(joiner.open);
  const keys: DtmfKey[] = [];
  let previousEnd = -1;
  for (const run of runs) {
    const placed = placeKey(run, (i) => frames[i] as Frame, count, previousEnd, samples.length, o);
    previousEnd = placed.after;
    if (placed.key) keys.push(placed.key);
  }
  return keys;
}

/**
 * The same detector fed a stream in pieces: `push` the audio as it comes, `keys()` at any point
 * gives exactly what detectDtmf gives for all the audio pushed so far (the same keys, to the bit).
 *
 * Only the frames whose window the audio already covers are analysed for good ("stable"); the last
 * few, whose windows reach past the end (zeros there), are analysed afresh at each `keys()`. A key
 * is settled once the frame after its tone's end is stable, and its frames are then let go, back to
 * the last frame quiet enough that no later tone's edge search can reach past it. So a stream holds
 * a frame's window of audio, the frames of the tone in progress, and the keys found.
 */
export class DtmfStream {
  private readonly o: DtmfOptions;
  private readonly analyser: FrameAnalyser;
  /** Stream samples [heldFrom, heldFrom + heldLength): those the frames not yet stable read. */
  private held = new Float32Array(0);
  private heldFrom = 0;
  private heldLength = 0;
  private length = 0;
  /** Stable frames [framesFrom, framesFrom + frames.length). */
  private frames: Frame[] = [];
  private framesFrom = 0;
  private readonly joiner = new RunJoiner();
  /** Runs the joiner closed whose keys are not settled yet, in order. */
  private readonly closed: Run[] = [];
  private previousEnd = -1;
  /** The last stable frame no key's edge search reaches past. */
  private lastQuiet = -1;
  private readonly settled: DtmfKey[] = [];

  constructor(options: Partial<DtmfOptions> = {}) {
    this.o = { ...defaultDtmfOptions, ...options };
    this.analyser = new FrameAnalyser(this.o);
  }

  /** Samples pushed so far. */
  get samples(): number {
    return this.length;
  }

  /** What the stream holds: samples of audio, and frames (each 8 amplitudes). */
  get retained(): { samples: number; frames: number } {
    return { samples: this.heldLength, frames: this.frames.length };
  }

  push(chunk: Float32Array): void {
    this.hold(chunk);
    this.length += chunk.length;
    for (let i = this.stableEnd; this.analyser.isStable(i, this.length); i = this.stableEnd) {
      const frame = this.analyser.frame(i, this.held, this.heldFrom, this.length);
      this.frames.push(frame);
      if (this.analyser.isQuiet(frame)) this.lastQuiet = i;
      const closed = this.joiner.feed(frame, i);
      if (closed) this.closed.push(closed);
    }
    this.settle();
    this.letGo();
  }

  /** The keys of all the audio pushed so far, times from its first sample. */
  keys(): DtmfKey[] {
    const count = this.analyser.frameCount(this.length);
    const stableEnd = this.stableEnd;
    const tail = Array.from({ length: count - stableEnd }, (_, k) => this.analyser.frame(stableEnd + k, this.held, this.heldFrom, this.length));
    const at = (i: number) => (i < stableEnd ? this.frames[i - this.framesFrom] : tail[i - stableEnd]) as Frame;
    const joiner = this.joiner.clone();
    const runs = [...this.closed];
    tail.forEach((frame, k) => {
      const closed = joiner.feed(frame, stableEnd + k);
      if (closed) runs.push(closed);
    });
    if (joiner.open) runs.push(joiner.open);
    const keys = [...this.settled];
    let previousEnd = this.previousEnd;
    for (const run of runs) {
      const placed = placeKey(run, at, count, previousEnd, this.length, this.o);
      previousEnd = placed.after;
      if (placed.key) keys.push(placed.key);
    }
    return keys;
  }

  private get stableEnd(): number {
    return this.framesFrom + this.frames.length;
  }

  private hold(chunk: Float32Array): void {
    const needed = this.heldLength + chunk.length;
    if (needed > this.held.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.held.length));
      grown.set(this.held.subarray(0, this.heldLength));
      this.held = grown;
    }
    this.held.set(chunk, this.heldLength);
    this.heldLength = needed;
  }

  /** Keys whose tone ended before the last stable frame: nothing later can change them. */
  private settle(): void {
    const stableEnd = this.stableEnd;
    const at = (i: number) => this.frames[i - this.framesFrom] as Frame;
    while (this.closed.length > 0) {
      const placed = placeKey(this.closed[0] as Run, at, stableEnd, this.previousEnd, this.length, this.o);
      // The edge search ran out of stable frames: the tone's end is not known yet.
      if (placed.after + 1 >= stableEnd) return;
      this.closed.shift();
      this.previousEnd = placed.after;
      if (placed.key) this.settled.push(placed.key);
    }
  }

  /** Drops the audio every frame still to be analysed is past, and the frames no key will read again. */
  private letGo(): void {
    const firstNeeded = this.analyser.firstSample(this.stableEnd);
    const drop = Math.min(Math.max(0, firstNeeded - this.heldFrom), this.heldLength);
    if (drop > 0) {
      this.held.copyWithin(0, drop, this.heldLength);
      this.heldLength -= drop;
      this.heldFrom += drop;
    }
    // A later tone's edge search stops at the last settled key's end or at a quiet frame; until the
    // tones in progress are settled, their frames are all needed.
    if (this.closed.length > 0 || this.joiner.open) return;
    const keepFrom = Math.max(this.previousEnd, this.lastQuiet);
    if (keepFrom > this.framesFrom) {
      this.frames = this.frames.slice(keepFrom - this.framesFrom);
      this.framesFrom = keepFrom;
    }
  }
}

/**
 * Frame analysis: one frame per hop, centred on sample `i * hop`, the window reaching half a frame
 * either side (zeros beyond the ends), so that frame centres line up with time zero.
 */
class FrameAnalyser {
  private readonly size: number;
  private readonly hop: number;
  private readonly window: Float64Array;
  private readonly windowSum: number;
  private readonly windowPower: number;
  private readonly coefficients: number[];
  private readonly minPower: number;
  private readonly maxTwist: number;
  private readonly peakRatio: number;
  /** Below this, the sum of the strongest row's and column's amplitude cannot be part of any tone. */
  private readonly quietAmplitude: number;
  private readonly minToneShare: number;
  private readonly x: Float64Array;
  private readonly powers = new Float64Array(8);

  constructor(o: DtmfOptions) {
    this.size = Math.round((o.frameMs * o.sampleRate) / 1000);
    this.hop = Math.round((o.hopMs * o.sampleRate) / 1000);
    const size = this.size;
    this.window = new Float64Array(size);
    for (let n = 0; n < size; n++) this.window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 0.5)) / size);
    this.windowSum = this.window.reduce((a, b) => a + b, 0);
    this.windowPower = this.window.reduce((a, b) => a + b * b, 0);
    this.coefficients = [...ROWS, ...COLS].map((f) => 2 * Math.cos((2 * Math.PI * f) / o.sampleRate));
    this.minPower = 0.5 * 10 ** (o.minLevelDbfs / 10);
    this.maxTwist = 10 ** (o.maxTwistDb / 10);
    this.peakRatio = 10 ** (o.minPeakRatioDb / 10);
    this.minToneShare = o.minToneShare;
    // A frame showing a key has both tones at sqrt(2·minPower) or more, and a run's frames keep at
    // least half its peak, so half a run's steady level is at least a quarter of that: a frame whose
    // every key level is under it stops every edge search (placeKey). With a margin for rounding.
    this.quietAmplitude = 0.99 * (Math.sqrt(2 * this.minPower) / 2);
    this.x = new Float64Array(size);
  }

  /** Frames of `length` samples of audio. */
  frameCount(length: number): number {
    return Math.ceil(length / this.hop) + 1;
  }

  /** The first stream sample frame `i` reads (negative before the start). */
  firstSample(i: number): number {
    return i * this.hop - Math.floor(this.size / 2);
  }

  /** Whether frame `i`'s window lies within the first `length` samples (more audio cannot change it). */
  isStable(i: number, length: number): boolean {
    return this.firstSample(i) + this.size <= length;
  }

  /** Whether no key's level in `frame` can reach half a run's steady level (see quietAmplitude). */
  isQuiet(frame: Frame): boolean {
    const a = frame.amplitudes;
    return Math.max(a[0]!, a[1]!, a[2]!, a[3]!) + Math.max(a[4]!, a[5]!, a[6]!, a[7]!) < this.quietAmplitude;
  }

  /** Frame `i` of a stream `length` samples long, of which `samples` holds those from `from` on. */
  frame(i: number, samples: Float32Array, from: number, length: number): Frame {
    const { size, window, x, powers } = this;
    const first = this.firstSample(i);
    let energy = 0;
    for (let n = 0; n < size; n++) {
      const at = first + n;
      const v = at >= 0 && at < length ? (samples[at - from] as number) * (window[n] as number) : 0;
      x[n] = v;
      energy += v * v;
    }
    const amplitudes = new Float64Array(8);
    for (let k = 0; k < 8; k++) {
      const c = this.coefficients[k] as number;
      let s1 = 0;
      let s2 = 0;
      for (let n = 0; n < size; n++) {
        const s0 = (x[n] as number) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const magnitudeSquared = Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2);
      // |X| of a sine of amplitude A under the window is A·Σw/2.
      const amplitude = (2 * Math.sqrt(magnitudeSquared)) / this.windowSum;
      amplitudes[k] = amplitude;
      powers[k] = (amplitude * amplitude) / 2;
    }
    const row = argmax(powers, 0, 4);
    const col = argmax(powers, 4, 8);
    const rowPower = powers[row] as number;
    const colPower = powers[col] as number;
    const meanPower = energy / this.windowPower;
    const share = meanPower > 0 ? (rowPower + colPower) / meanPower : 0;
    let key = -1;
    if (
      rowPower >= this.minPower &&
      colPower >= this.minPower &&
      rowPower <= colPower * this.maxTwist &&
      colPower <= rowPower * this.maxTwist &&
      standsOut(powers, row, 0, 4, this.peakRatio) &&
      standsOut(powers, col, 4, 8, this.peakRatio) &&
      share >= this.minToneShare
    ) {
      key = row * 4 + (col - 4);
    }
    return { amplitudes, key, share };
  }
}

interface Run {
  key: number;
  first: number;
  last: number;
}

/**
 * Joins consecutive frames showing one key into runs, fed one frame at a time. A frame that does
 * not show it ends the run when the key's own level there has fallen below half the run's peak
 * (the tone stopped) or when a second such frame follows (the tone is lost); a single weak frame
 * in noise is bridged.
 */
class RunJoiner {
  open: Run | undefined;
  private peak = 0;
  private misses = 0;

  /** Takes frame `i`; returns the run it closes, if any. */
  feed(frame: Frame, i: number): Run | undefined {
    const run = this.open;
    if (run && frame.key === run.key) {
      run.last = i;
      this.misses = 0;
      this.peak = Math.max(this.peak, keyAmplitude(frame, run.key));
      return undefined;
    }
    let closed: Run | undefined;
    if (run) {
      this.misses++;
      if (frame.key >= 0 || keyAmplitude(frame, run.key) < this.peak / 2 || this.misses > 1) {
        closed = run;
        this.open = undefined;
      }
    }
    if (!this.open && frame.key >= 0) {
      this.open = { key: frame.key, first: i, last: i };
      this.peak = keyAmplitude(frame, frame.key);
      this.misses = 0;
    }
    return closed;
  }

  clone(): RunJoiner {
    const copy = new RunJoiner();
    copy.open = this.open && { ...this.open };
    copy.peak = this.peak;
    copy.misses = this.misses;
    return copy;
  }
}

/**
 * The key of a run, timed where its tone's level crosses half its steady level, or none when the
 * tone is too short; and `after`, the last frame at or above that level (no later key's edge search
 * goes back past it). `frame(i)` is defined for frames up to `count - 1` from the previous key's
 * `after` on; `length` is the audio's length in samples.
 */
function placeKey(run: Run, frame: (i: number) => Frame, count: number, previousEnd: number, length: number, o: DtmfOptions): { after: number; key?: DtmfKey } {
  const hopSeconds = Math.round((o.hopMs * o.sampleRate) / 1000) / o.sampleRate;
  const level = (i: number) => keyAmplitude(frame(i), run.key);
  const steady = median(range(run.first, run.last).map(level));
  const half = steady / 2;
  // Walk outwards from the run to the frames where the tone's level falls below half.
  let before = run.first;
  while (before > previousEnd + 1 && before > 0 && level(before - 1) >= half) before--;
  let after = run.last;
  while (after < count - 1 && level(after + 1) >= half) after++;
  const crossing = (below: number, above: number) => {
    if (below < 0 || below >= count) return above;
    const a = level(below);
    const b = level(above);
    const t = b === a ? 1 : Math.min(1, Math.max(0, (half - a) / (b - a)));
    return below + (above - below) * t;
  };
  const start = crossing(before - 1, before) * hopSeconds;
  const end = crossing(after + 1, after) * hopSeconds;
  if ((end - start) * 1000 < o.minToneMs) return { after };
  const shares = range(run.first, run.last)
    .filter((i) => frame(i).key === run.key)
    .map((i) => frame(i).share);
  return {
    after,
    key: {
      key: keyName(run.key),
      start: Math.max(0, start),
      end: Math.min(length / o.sampleRate, end),
      confidence: Math.min(1, shares.reduce((a, b) => a + b, 0) / shares.length),
    },
  };
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
