// Loudness of decoded audio as ITU-R BS.1770-4 / EBU R128 define it, measured while the samples stream
// past (LoudnessMeter), and the one linear gain that brings a whole file to a target (loudnessGain).
//
// Why our own meter rather than ffmpeg's: ffmpeg's `ebur128` and `loudnorm` filters only run at 48 kHz
// (loudnorm at 192 kHz), so a telephone call decoded for the models at 16 kHz would be resampled up and
// down again just to be measured; that was 85 % of the batch pipeline's own time. The K-weighting filters
// are computed for the stream's own rate (the bilinear-transform form libebur128 uses), so measuring at
// 16 kHz reads the same as at 48 kHz to within a few hundredths of a LU for audio band-limited below 8 kHz,
// which is all the models hear.
//
// What is measured: integrated loudness (400 ms blocks in 100 ms steps, absolute gate −70 LUFS, relative
// gate −10 LU) and the sample peak, both as the samples arrive; the true peak (4× oversampled) is found
// afterwards over the samples kept, and only near the top of the range (see truePeak), since only there can
// it limit the gain. Every channel is weighted 1: the files here are mono or stereo calls (BS.1770's 1.41
// for surround channels would move a 5.1 film's reading by at most 1.5 LU).

/** Loudness of silence, or of audio with no block above the absolute gate. */
export const SILENT_LUFS = -Infinity;

const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;
/** Steps (100 ms) per gating block (400 ms). */
const STEPS_PER_BLOCK = 4;

/** Second-order section, Direct Form I with the state per channel. */
interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** BS.1770's two K-weighting stages for `sampleRate`: the head's high shelf, then the RLB high-pass. */
export function kWeighting(sampleRate: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / sampleRate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / sampleRate);
  a0 = 1 + k / q + k * k;
  const highPass: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / q + k * k) / a0 };
  return [shelf, highPass];
}

/**
 * Integrated loudness and sample peak of a stream of blocks (one Float32Array per channel, blocks split
 * anywhere). Memory: one number per 100 ms of audio.
 */
export class LoudnessMeter {
  private readonly stages: [Biquad, Biquad];
  /** Filter state per channel: x1 x2 (input), y1 y2 (shelf output), z1 z2 (high-pass output). */
  private readonly state: Float64Array[];
  private readonly stepSamples: number;
  /** Samples into the current step. */
  private filled = 0;
  /** K-weighted sum of squares of the current step, all channels. */
  private sum = 0;
  /** Mean square (summed over channels) of every finished step. */
  private steps: number[] = [];
  private peakValue = 0;

  constructor(
    readonly sampleRate: number,
    readonly channelCount: number,
  ) {
    this.stages = kWeighting(sampleRate);
    this.state = Array.from({ length: channelCount }, () => new Float64Array(6));
    this.stepSamples = Math.round(sampleRate / 10);
  }

  /** Measures one block: `channels[c][i]`, all channels of equal length. */
  push(channels: readonly Float32Array[]): void {
    const length = channels[0]?.length ?? 0;
    for (let at = 0; at < length; ) {
      const end = Math.min(length, at + this.stepSamples - this.filled);
      for (let c = 0; c < this.channelCount; c++) this.sum += this.filter(c, channels[c]!, at, end);
      this.filled += end - at;
      at = end;
      if (this.filled === this.stepSamples) {
        this.steps.push(this.sum / this.stepSamples);
        this.sum = 0;
        this.filled = 0;
      }
    }
  }

  /** The largest absolute sample value so far, linear. */
  get samplePeak(): number {
    return this.peakValue;
  }

  /** Integrated loudness in LUFS of everything pushed so far; SILENT_LUFS when no block passes the absolute gate. */
  integrated(): number {
    // The partial last step is left out, as BS.1770 leaves out a partial last block.
    const blocks: number[] = [];
    for (let i = 0; i + STEPS_PER_BLOCK <= this.steps.length; i++) {
      let power = 0;
      for (let s = i; s < i + STEPS_PER_BLOCK; s++) power += this.steps[s]!;
      blocks.push(power / STEPS_PER_BLOCK);
    }
    const absolute = blocks.filter((p) => lufs(p) > ABSOLUTE_GATE_LUFS);
    if (absolute.length === 0) return SILENT_LUFS;
    const relativeGate = lufs(mean(absolute)) + RELATIVE_GATE_LU;
    const gated = absolute.filter((p) => lufs(p) > relativeGate);
    return lufs(mean(gated));
  }

  /** Sum of squares of K-weighted samples [from, to) of channel `c`; tracks the sample peak on the way. */
  private filter(c: number, samples: Float32Array, from: number, to: number): number {
    const [s, h] = this.stages;
    const st = this.state[c]!;
    let x1 = st[0]!, x2 = st[1]!, y1 = st[2]!, y2 = st[3]!, z1 = st[4]!, z2 = st[5]!;
    let sum = 0;
    let peak = this.peakValue;
    for (let i = from; i < to; i++) {
      const x = samples[i]!;
      const magnitude = x < 0 ? -x : x;
      if (magnitude > peak) peak = magnitude;
      const y = s.b0 * x + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
      const z = h.b0 * y + h.b1 * y1 + h.b2 * y2 - h.a1 * z1 - h.a2 * z2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      z2 = z1;
      z1 = z;
      sum += z * z;
    }
    st[0] = x1;
    st[1] = x2;
    st[2] = y1;
    st[3] = y2;
    // Denormals would slow the loop to a crawl on long silences; a state this small is silence.
    st[4] = Math.abs(z1) < 1e-30 ? 0 : z1;
    st[5] = Math.abs(z2) < 1e-30 ? 0 : z2;
    this.peakValue = peak;
    return sum;
  }
}

// ---------------------------------------------------------------------------------------------------------
// True peak: the signal's largest value between samples too, from 4× oversampling (BS.1770-4 Annex 2).

const OVERSAMPLING = 4;
const TAPS_PER_PHASE = 12;

/** Polyphase interpolator: phase p (1–3) gives the value p/4 of the way from sample n to n+1. Hann-windowed sinc. */
const phases: Float64Array[] = Array.from({ length: OVERSAMPLING - 1 }, (_, i) => {
  const p = i + 1;
  const taps = new Float64Array(TAPS_PER_PHASE);
  const half = TAPS_PER_PHASE / 2;
  let sum = 0;
  for (let t = 0; t < TAPS_PER_PHASE; t++) {
    // Tap t weighs sample n − half + 1 + t; its distance from the point n + p/4, in samples.
    const d = t - half + 1 - p / OVERSAMPLING;
    const sinc = Math.sin(Math.PI * d) / (Math.PI * d);
    const window = 0.5 + 0.5 * Math.cos((Math.PI * d) / half);
    taps[t] = sinc * window;
    sum += taps[t]!;
  }
  // Unity gain at DC, so a constant reads as itself.
  for (let t = 0; t < TAPS_PER_PHASE; t++) taps[t]! /= sum;
  return taps;
});

/**
 * The true peak (linear) of `channels`, or `samplePeak` itself where that is already the answer: only the
 * stretches where a sample reaches `from` (linear) are interpolated. An inter-sample peak more than 6 dB over
 * both its neighbouring samples needs content near the Nyquist frequency at full level, which speech and
 * calls resampled to 16 kHz (low-passed below 8 kHz by the resampler) do not have; so a caller that only
 * needs to know whether the peak passes a ceiling passes `from` = ceiling / 2 and pays for the
 * interpolation only near the top.
 */
export function truePeak(channels: readonly Float32Array[], samplePeak: number, from = 0): number {
  let peak = samplePeak;
  const half = TAPS_PER_PHASE / 2;
  for (const x of channels) {
    const n = x.length;
    for (let i = 0; i + 1 < n; i++) {
      const a = x[i]!;
      const b = x[i + 1]!;
      if ((a < 0 ? -a : a) < from && (b < 0 ? -b : b) < from) continue;
      for (const taps of phases) {
        let value = 0;
        for (let t = 0; t < TAPS_PER_PHASE; t++) {
          const k = i - half + 1 + t;
          if (k >= 0 && k < n) value += taps[t]! * x[k]!;
        }
        if (value > peak) peak = value;
        else if (-value > peak) peak = -value;
      }
    }
  }
  return peak;
}

export interface LoudnessTarget {
  /** Integrated loudness to reach, LUFS. */
  integratedLufs: number;
  /** The true peak the gain may not push past, dBTP. */
  truePeakDbtp: number;
}

export interface LoudnessGain {
  /** Multiply every sample by this. 1 for silence. */
  gain: number;
  /** Integrated loudness before the gain, LUFS (SILENT_LUFS for silence). */
  measuredLufs: number;
  /** True peak before the gain, dBTP (as far as it was needed: see truePeak). */
  truePeakDbtp: number;
  /** True when the peak ceiling, not the loudness target, set the gain. */
  peakLimited: boolean;
}

/**
 * The one linear gain that brings audio measured by `meter` to `target`'s loudness without pushing its true
 * peak past the target's ceiling. `channels` are the samples the meter measured (for the true peak).
 */
export function loudnessGain(meter: LoudnessMeter, channels: readonly Float32Array[], target: LoudnessTarget): LoudnessGain {
  const measuredLufs = meter.integrated();
  if (measuredLufs === SILENT_LUFS || meter.samplePeak === 0) {
    return { gain: 1, measuredLufs, truePeakDbtp: decibels(meter.samplePeak), peakLimited: false };
  }
  const wanted = 10 ** ((target.integratedLufs - measuredLufs) / 20);
  const ceiling = 10 ** (target.truePeakDbtp / 20);
  // Only a peak within 6 dB of where the ceiling would bite can limit the gain.
  const peak = truePeak(channels, meter.samplePeak, ceiling / wanted / 2);
  const allowed = ceiling / peak;
  return { gain: Math.min(wanted, allowed), measuredLufs, truePeakDbtp: decibels(peak), peakLimited: allowed < wanted };
}

/** Multiplies every sample by `gain`, in place. */
export function applyGain(channels: readonly Float32Array[], gain: number): void {
  if (gain === 1) return;
  for (const samples of channels) for (let i = 0; i < samples.length; i++) samples[i]! *= gain;
}

const lufs = (meanSquare: number) => -0.691 + 10 * Math.log10(meanSquare);
const decibels = (linear: number) => 20 * Math.log10(linear);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
