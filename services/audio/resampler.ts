// Sample-rate conversion to 16 kHz for the speech models.
//
// Written here rather than taken from npm because what we need is small and strict: a rational polyphase
// FIR (upsample by L, low-pass, keep every M-th sample), stateful across chunks so that audio pushed in 20 ms
// frames comes out sample-for-sample identical to the same audio converted at once, with no extra latency
// beyond the filter's half-length. The maintained npm resamplers are either WASM builds of libsamplerate/speex
// that are not bit-identical across chunkings, or browser-only (OfflineAudioContext).
//
// The low-pass is a Kaiser-windowed sinc with its passband to 90 % of the lower Nyquist frequency, its
// stopband from 100 % of it, and 80 dB of stopband attenuation: resampling 48 kHz to 16 kHz keeps 7.2 kHz
// and removes everything from 8 kHz up (which would otherwise fold back into the speech band). Output sample
// m sits at input time m·M/L exactly (the filter's delay is compensated), so stream offsets in the output
// match offsets in the input.
//
// Doubling the rate (8 kHz to 16 kHz: every call-centre stream, on every frame) uses a half-band filter
// made for telephone audio instead: G.711 channels carry 300–3400 Hz, so the passband ends at 3.4 kHz and
// the stopband starts at 4.6 kHz (the transition centred on the 4 kHz Nyquist frequency, as a half-band's
// must be), with the same 80 dB. Every even output is then an input sample as it is and every odd one a
// 34-tap symmetric sum (17 multiplications), unrolled by hand in `double`. What it lets through, images of
// 3.4–4 kHz input between 4 and 4.6 kHz, is empty in telephone audio, and an 8 kHz recording that is not
// telephone audio loses only its top 0.6 kHz, which no speech model at 16 kHz leans on.

import { MODEL_SAMPLE_RATE } from "./rates.js";

const STOPBAND_ATTENUATION_DB = 80;
const PASSBAND_EDGE = 0.9; // of the lower Nyquist frequency
/** The half-band's passband edge, of the input's Nyquist frequency: 3.4 kHz of an 8 kHz stream's 4 kHz. */
const TELEPHONE_PASSBAND_EDGE = 0.85;
/** Taps per phase of the half-band design, which `double`'s unrolled sum is written for. */
const HALF_BAND_TAPS = 34;
/**
 * Phases in the coefficient table. For the usual rates L is small (44.1 kHz: 160, 11.025 kHz: 640) and every
 * phase is exact. An odd rate such as 44 101 Hz would need L = 16 000 phases of ~300 taps (19 MB); above this
 * cap the output time is rounded to the nearest 1/2048 of an input sample, an error below −70 dB at 7 kHz.
 */
const MAX_PHASES = 2048;

interface Filter {
  /** Upsampling factor L and downsampling factor M of the reduced ratio outRate/inRate = L/M. */
  readonly up: number;
  readonly down: number;
  /** Taps per phase (even). */
  readonly taps: number;
  readonly phases: Float32Array[];
  /** Per phase: the index of its one non-zero coefficient (1) when the phase only delays its input, else -1. */
  readonly delays: Int32Array;
  /** Per phase: whether its coefficients read the same backwards (the middle phase of an even L). */
  readonly symmetric: boolean[];
}

/**
 * Outputs up to SLAB_MAX_OUTPUT samples (a live stream's 20 ms frame: 320) are cut from a block of
 * SLAB_SAMPLES rather than each given an ArrayBuffer of its own: allocating (and later collecting) a
 * buffer costs more than a frame's resampling at 8 kHz, a view into a block a third of that. Blocks are
 * never written twice, so an output stays as it was returned, and one is freed once its last view is.
 */
const SLAB_SAMPLES = 4096;
const SLAB_MAX_OUTPUT = 1024;

const filterCache = new Map<string, Filter>();
const FILTER_CACHE_SIZE = 8;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

function designFilter(inRate: number, outRate: number): Filter {
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  const down = inRate / g;
  const phaseCount = Math.min(up, MAX_PHASES);
  const nyquist = Math.min(inRate, outRate) / 2;
  // Half-band when doubling: the cutoff sits on the input's Nyquist frequency, the transition either side.
  const halfBand = up === 2 && down === 1;
  const transitionHz = halfBand ? 2 * (1 - TELEPHONE_PASSBAND_EDGE) * nyquist : (1 - PASSBAND_EDGE) * nyquist;
  const cutoff = (halfBand ? nyquist : ((1 + PASSBAND_EDGE) / 2) * nyquist) / inRate; // cycles per input sample
  // Kaiser's estimates of the window length and shape for the wanted attenuation and transition width.
  const a = STOPBAND_ATTENUATION_DB;
  const beta = 0.1102 * (a - 8.7);
  let taps = Math.ceil((a - 7.95) / (2.285 * 2 * Math.PI * (transitionHz / inRate)));
  taps += taps % 2;
  if (halfBand && taps !== HALF_BAND_TAPS) throw new Error(`the half-band design gives ${taps} taps; Resampler.double sums ${HALF_BAND_TAPS}`);
  const half = taps / 2;
  const i0Beta = besselI0(beta);
  const phases: Float32Array[] = [];
  for (let p = 0; p < phaseCount; p++) {
    const coefficients = new Float64Array(taps);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const s = k + p / phaseCount - half; // distance from the output instant, in input samples
      const x = 2 * cutoff * s;
      // A half-band sinc is exactly zero at every other tap (where x is a non-zero integer).
      const sinc = x === 0 ? 1 : Number.isInteger(x) ? 0 : Math.sin(Math.PI * x) / (Math.PI * x);
      const r = s / half;
      const window = Math.abs(r) <= 1 ? besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta : 0;
      coefficients[k] = 2 * cutoff * sinc * window;
      sum += coefficients[k]!;
    }
    // Normalising each phase to unit sum makes DC exact whatever the phase.
    const phase = new Float32Array(taps);
    for (let k = 0; k < taps; k++) phase[k] = coefficients[k]! / sum;
    // Stored reversed, so the inner loop walks input and coefficients in the same direction.
    phases.push(phase.reverse());
  }
  const delays = Int32Array.from(phases, (phase) => {
    const nonZero = phase.reduce<number[]>((at, c, k) => (c !== 0 ? [...at, k] : at), []);
    return nonZero.length === 1 && phase[nonZero[0]!] === 1 ? nonZero[0]! : -1;
  });
  const symmetric = phases.map((phase) => phase.every((c, k) => c === phase[taps - 1 - k]));
  return { up, down, taps, phases, delays, symmetric };
}

function filterFor(inRate: number, outRate: number): Filter {
  const key = `${inRate}/${outRate}`;
  let filter = filterCache.get(key);
  if (filter) {
    filterCache.delete(key); // re-inserted below as the most recently used
  } else {
    filter = designFilter(inRate, outRate);
    if (filterCache.size >= FILTER_CACHE_SIZE) filterCache.delete(filterCache.keys().next().value!);
  }
  filterCache.set(key, filter);
  return filter;
}

/** Converts one channel from `inRate` to `outRate` (16 kHz by default), chunk by chunk. */
export class Resampler {
  private readonly filter: Filter | undefined;
  /**
   * Input not yet consumed: `buffer[0, length)`, starting at absolute input index `base`; begins with taps−1
   * zeros (silence before the stream). The buffer is reused (consumed samples are moved down, it grows only
   * when a chunk does not fit) so that a 20 ms frame allocates nothing but its output. Held as doubles
   * (each float sample exactly): the filters read every sample many times, and widening it once here
   * saves the widening at every read (about a fifth of the half-band's time).
   */
  private buffer: Float64Array;
  private length: number;
  private base: number;
  private received = 0;
  /** Next output sample m, its input position floor(m·M/L) and the remainder (m·M) mod L. */
  private produced = 0;
  private position = 0;
  private remainder = 0;
  private ended = false;
  /** The block outputs are cut from, and how much of it is used. */
  private slab = new Float32Array(0);
  private slabUsed = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number = MODEL_SAMPLE_RATE,
  ) {
    if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
      throw new RangeError(`sample rates must be positive integers, got ${inRate} → ${outRate}`);
    }
    this.filter = inRate === outRate ? undefined : filterFor(inRate, outRate);
    const history = this.filter ? this.filter.taps - 1 : 0;
    this.buffer = new Float64Array(history);
    this.length = history;
    this.base = -history;
  }

  /** The output a whole input of `inputSamples` samples turns into: ceil(n·outRate/inRate). */
  static outputLength(inputSamples: number, inRate: number, outRate: number = MODEL_SAMPLE_RATE): number {
    return Math.ceil((inputSamples * outRate) / inRate);
  }

  /**
   * Feeds input; returns the output samples whose filter window is now complete. A short output may
   * be a view into a block shared with later outputs (mind `byteOffset` when reading its `buffer`).
   */
  process(input: Float32Array): Float32Array {
    if (this.ended) throw new Error("Resampler.process after flush");
    if (!this.filter) {
      this.received += input.length;
      const copy = this.output(input.length);
      copy.set(input);
      return copy;
    }
    this.append(input, input.length);
    return this.run(Number.POSITIVE_INFINITY);
  }

  /** End of input: returns the rest of the output, as if the input were followed by silence, cut to ceil(n·L/M). */
  flush(): Float32Array {
    if (this.ended) return new Float32Array(0);
    this.ended = true;
    if (!this.filter) return new Float32Array(0);
    const total = Resampler.outputLength(this.received, this.inRate, this.outRate);
    const { up, down, taps } = this.filter;
    const lastNeeded = total > 0 ? Math.floor(((total - 1) * down) / up) + taps / 2 + 1 : 0;
    const zeros = Math.max(0, lastNeeded + 1 - this.received);
    this.append(new Float32Array(zeros), 0);
    return this.run(total);
  }

  /** A new array of `count` samples: cut from the current block when short. */
  private output(count: number): Float32Array {
    if (count > SLAB_MAX_OUTPUT) return new Float32Array(count);
    if (this.slabUsed + count > this.slab.length) {
      this.slab = new Float32Array(SLAB_SAMPLES);
      this.slabUsed = 0;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + count);
    this.slabUsed += count;
    return out;
  }

  private append(input: Float32Array, realSamples: number): void {
    const needed = this.length + input.length;
    if (needed > this.buffer.length) {
      const grown = new Float64Array(Math.max(needed, 2 * this.buffer.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(input, this.length);
    this.length = needed;
    this.received += realSamples;
  }

  /** Forgets the `drop` oldest buffered samples. */
  private consume(drop: number): void {
    this.buffer.copyWithin(0, drop, this.length);
    this.length -= drop;
    this.base += drop;
  }

  /** Produces every output sample whose window lies inside the buffered input, up to output index `limit`. */
  private run(limit: number): Float32Array {
    const { up, down, taps, phases, delays, symmetric } = this.filter!;
    if (up === 2 && down === 1 && phases.length === 2 && delays[0]! >= 0 && symmetric[1]) return this.double(limit);
    const half = taps / 2;
    const phaseCount = phases.length;
    const available = this.base + this.length; // one past the last buffered input index
    const pending = this.buffer;
    // At most this many outputs fit in the buffered input (one more for the rounded phase).
    const room = Math.min(limit - this.produced, Math.ceil(((available - this.position) * up) / down) + 1);
    const out = this.output(Math.max(0, room));
    let count = 0;
    while (this.produced < limit && count < out.length) {
      let newest = this.position + half; // the newest input sample the window touches
      let phase = phaseCount === up ? this.remainder : Math.round((this.remainder * phaseCount) / up);
      if (phase === phaseCount) {
        phase = 0;
        newest += 1;
      }
      if (newest >= available) break;
      const start = newest - taps + 1 - this.base;
      const delay = delays[phase]!;
      if (delay >= 0) {
        out[count++] = pending[start + delay]!;
      } else if (symmetric[phase]) {
        // Half the multiplications: the two samples that share a coefficient are added first.
        const coefficients = phases[phase]!;
        const last = start + taps - 1;
        let acc = 0;
        for (let k = 0; k < taps / 2; k++) acc += coefficients[k]! * (pending[start + k]! + pending[last - k]!);
        out[count++] = acc;
      } else {
        const coefficients = phases[phase]!;
        // Two sums, so the loop is not one chain of dependent additions.
        let even = 0;
        let odd = 0;
        for (let k = 0; k < taps; k += 2) {
          even += pending[start + k]! * coefficients[k]!;
          odd += pending[start + k + 1]! * coefficients[k + 1]!;
        }
        out[count++] = even + odd;
      }
      this.produced++;
      this.remainder += down;
      if (this.remainder >= up) {
        this.position += Math.floor(this.remainder / up);
        this.remainder %= up;
      }
    }
    // Keep only what the next output's window can still reach.
    const keepFrom = this.position + half - taps; // one sample of slack for the rounded phase
    const drop = Math.min(Math.max(0, keepFrom - this.base), this.length);
    if (drop > 0) this.consume(drop);
    return count === out.length ? out : out.subarray(0, count);
  }

  /**
   * `run` for the half-band doubling (8 → 16 kHz: every call-centre stream, on every frame): output
   * 2i is input sample i delayed, output 2i+1 the symmetric 34-tap sum. The sum is written out with its
   * 17 coefficients in locals rather than as a loop over the coefficient array: V8 then keeps them in
   * registers and reads each input once without a loop's bounds checks and branches, about three times
   * faster than the loop (measured on 20 ms frames). Its terms are added in the loop's order, so chunking
   * still cannot change a bit of the output. Two odd outputs are summed side by side, term by term, from
   * the 35 inputs their windows span read once into locals: each sum is a chain of 16 dependent
   * additions, and with two chains in flight the processor overlaps them instead of waiting out each
   * addition's latency, and each input is read (and bounds-checked) once rather than twice. About 2.4 times faster than one sum at a time (measured on 20 ms frames); the order of each
   * sum's own terms, and so every bit, is unchanged. Four chains at once are no faster, eight slower
   * (their locals no longer fit in registers).
   */
  private double(limit: number): Float32Array {
    const { taps, phases, delays } = this.filter!;
    const half = taps / 2;
    const c = phases[1]!;
    const c0 = c[0]!, c1 = c[1]!, c2 = c[2]!, c3 = c[3]!, c4 = c[4]!, c5 = c[5]!, c6 = c[6]!, c7 = c[7]!, c8 = c[8]!;
    const c9 = c[9]!, c10 = c[10]!, c11 = c[11]!, c12 = c[12]!, c13 = c[13]!, c14 = c[14]!, c15 = c[15]!, c16 = c[16]!;
    const delay = delays[0]!;
    const x = this.buffer;
    const base = this.base;
    // Output m's window ends at input floor(m/2) + half: every m below `last` has its window buffered.
    const last = Math.min(limit, 2 * (base + this.length - half));
    const count = Math.max(0, last - this.produced);
    const out = this.output(count);
    // Outputs come in pairs: `produced` and `last` are always even (a doubling's total is 2n).
    const m = this.produced + count;
    let s = this.position + half - taps + 1 - base; // where output 2i+1's window starts in the buffer
    let o = 0;
    for (; o + 4 <= count; o += 4, s += 2) {
      // The 35 inputs the two windows span, each read once (a: output o+1, its window from s; b: output o+3, from s+1).
      const v0 = x[s]!, v1 = x[s + 1]!, v2 = x[s + 2]!, v3 = x[s + 3]!, v4 = x[s + 4]!, v5 = x[s + 5]!, v6 = x[s + 6]!;
      const v7 = x[s + 7]!, v8 = x[s + 8]!, v9 = x[s + 9]!, v10 = x[s + 10]!, v11 = x[s + 11]!, v12 = x[s + 12]!, v13 = x[s + 13]!;
      const v14 = x[s + 14]!, v15 = x[s + 15]!, v16 = x[s + 16]!, v17 = x[s + 17]!, v18 = x[s + 18]!, v19 = x[s + 19]!, v20 = x[s + 20]!;
      const v21 = x[s + 21]!, v22 = x[s + 22]!, v23 = x[s + 23]!, v24 = x[s + 24]!, v25 = x[s + 25]!, v26 = x[s + 26]!, v27 = x[s + 27]!;
      const v28 = x[s + 28]!, v29 = x[s + 29]!, v30 = x[s + 30]!, v31 = x[s + 31]!, v32 = x[s + 32]!, v33 = x[s + 33]!, v34 = x[s + 34]!;
      out[o] = x[s + delay]!;
      out[o + 2] = x[s + 1 + delay]!;
      let a = c0 * (v0 + v33);
      let b = c0 * (v1 + v34);
      a += c1 * (v1 + v32);
      b += c1 * (v2 + v33);
      a += c2 * (v2 + v31);
      b += c2 * (v3 + v32);
      a += c3 * (v3 + v30);
      b += c3 * (v4 + v31);
      a += c4 * (v4 + v29);
      b += c4 * (v5 + v30);
      a += c5 * (v5 + v28);
      b += c5 * (v6 + v29);
      a += c6 * (v6 + v27);
      b += c6 * (v7 + v28);
      a += c7 * (v7 + v26);
      b += c7 * (v8 + v27);
      a += c8 * (v8 + v25);
      b += c8 * (v9 + v26);
      a += c9 * (v9 + v24);
      b += c9 * (v10 + v25);
      a += c10 * (v10 + v23);
      b += c10 * (v11 + v24);
      a += c11 * (v11 + v22);
      b += c11 * (v12 + v23);
      a += c12 * (v12 + v21);
      b += c12 * (v13 + v22);
      a += c13 * (v13 + v20);
      b += c13 * (v14 + v21);
      a += c14 * (v14 + v19);
      b += c14 * (v15 + v20);
      a += c15 * (v15 + v18);
      b += c15 * (v16 + v19);
      a += c16 * (v16 + v17);
      b += c16 * (v17 + v18);
      out[o + 1] = a;
      out[o + 3] = b;
    }
    // An odd number of pairs: the last one alone.
    for (; o < count; o += 2, s++) {
      out[o] = x[s + delay]!;
      out[o + 1] =
        c0 * (x[s]! + x[s + 33]!) + c1 * (x[s + 1]! + x[s + 32]!) + c2 * (x[s + 2]! + x[s + 31]!) + c3 * (x[s + 3]! + x[s + 30]!) +
        c4 * (x[s + 4]! + x[s + 29]!) + c5 * (x[s + 5]! + x[s + 28]!) + c6 * (x[s + 6]! + x[s + 27]!) + c7 * (x[s + 7]! + x[s + 26]!) +
        c8 * (x[s + 8]! + x[s + 25]!) + c9 * (x[s + 9]! + x[s + 24]!) + c10 * (x[s + 10]! + x[s + 23]!) + c11 * (x[s + 11]! + x[s + 22]!) +
        c12 * (x[s + 12]! + x[s + 21]!) + c13 * (x[s + 13]! + x[s + 20]!) + c14 * (x[s + 14]! + x[s + 19]!) + c15 * (x[s + 15]! + x[s + 18]!) +
        c16 * (x[s + 16]! + x[s + 17]!);
    }
    this.produced = m;
    this.position = s - half + taps - 1 + base;
    this.remainder = m & 1;
    const drop = Math.min(Math.max(0, this.position + half - taps - base), this.length);
    if (drop > 0) this.consume(drop);
    return out;
  }
}
