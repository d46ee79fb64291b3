// Log-mel filterbank features computed as Kaldi's `compute-fbank-feats` (and torchaudio's
// `compliance.kaldi.fbank`) does with its defaults, no dither: 25 ms frames every 10 ms whose edges
// are snipped, DC removed, pre-emphasis 0.97, Povey window, power spectrum of a 512-point FFT,
// triangular filters evenly spaced on Kaldi's mel scale from 20 Hz to Nyquist, natural log. Speaker
// models (WeSpeaker, 3D-Speaker ECAPA-TDNN) are trained on these, mean-normalised over time.

export interface FbankOptions {
  sampleRate: number;
  numMelBins: number;
  frameMs: number;
  hopMs: number;
  lowFreq: number;
  preemphasis: number;
  /** Subtract each bin's mean over time (cepstral mean normalisation). */
  meanNormalize: boolean;
}

export const defaultFbankOptions: FbankOptions = {
  sampleRate: 16000,
  numMelBins: 80,
  frameMs: 25,
  hopMs: 10,
  lowFreq: 20,
  preemphasis: 0.97,
  meanNormalize: true,
};

/** Features of `samples`, frame-major: [frames × numMelBins]. Empty when shorter than one frame. */
export function fbank(samples: Float32Array, options: Partial<FbankOptions> = {}): { frames: number; features: Float32Array } {
  const o = { ...defaultFbankOptions, ...options };
  const size = Math.round((o.frameMs * o.sampleRate) / 1000);
  const hop = Math.round((o.hopMs * o.sampleRate) / 1000);
  const frames = samples.length < size ? 0 : 1 + Math.floor((samples.length - size) / hop);
  let fftSize = 1;
  while (fftSize < size) fftSize *= 2;
  const window = new Float64Array(size);
  for (let n = 0; n < size; n++) window[n] = (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (size - 1))) ** 0.85;
  const banks = melBanks(o, fftSize);
  const features = new Float32Array(frames * o.numMelBins);
  const re = new Float64Array(fftSize);
  const im = new Float64Array(fftSize);
  const power = new Float64Array(fftSize / 2 + 1);
  for (let t = 0; t < frames; t++) {
    const from = t * hop;
    let mean = 0;
    for (let n = 0; n < size; n++) mean += samples[from + n] as number;
    mean /= size;
    for (let n = size - 1; n >= 0; n--) {
      const x = (samples[from + n] as number) - mean;
      const previous = n > 0 ? (samples[from + n - 1] as number) - mean : x;
      re[n] = (x - o.preemphasis * previous) * (window[n] as number);
    }
    re.fill(0, size);
    im.fill(0);
    fft(re, im);
    for (let k = 0; k <= fftSize / 2; k++) power[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
    for (let m = 0; m < o.numMelBins; m++) {
      const bank = banks[m] as { first: number; weights: Float64Array };
      let energy = 0;
      for (let k = 0; k < bank.weights.length; k++) energy += (power[bank.first + k] as number) * (bank.weights[k] as number);
      features[t * o.numMelBins + m] = Math.log(Math.max(energy, 1.1920929e-7));
    }
  }
  if (o.meanNormalize && frames > 0) {
    for (let m = 0; m < o.numMelBins; m++) {
      let mean = 0;
      for (let t = 0; t < frames; t++) mean += features[t * o.numMelBins + m] as number;
      mean /= frames;
      for (let t = 0; t < frames; t++) features[t * o.numMelBins + m] = (features[t * o.numMelBins + m] as number) - mean;
    }
  }
  return { frames, features };
}

const mel = (hz: number) => 1127 * Math.log(1 + hz / 700);

/** Kaldi's triangular filters, computed on the mel scale, as a sparse row per filter. */
function melBanks(o: FbankOptions, fftSize: number): { first: number; weights: Float64Array }[] {
  const nyquist = o.sampleRate / 2;
  const low = mel(o.lowFreq);
  const delta = (mel(nyquist) - low) / (o.numMelBins + 1);
  const banks = [];
  for (let m = 0; m < o.numMelBins; m++) {
    const left = low + m * delta;
    const centre = left + delta;
    const right = centre + delta;
    let first = -1;
    const weights: number[] = [];
    for (let k = 0; k < fftSize / 2; k++) {
      const f = mel((k * o.sampleRate) / fftSize);
      const w = f > left && f < right ? (f <= centre ? (f - left) / delta : (right - f) / delta) : 0;
      if (w > 0) {
        if (first < 0) first = k;
        weights[k - first] = w;
      } else if (first >= 0) {
        break;
      }
    }
    banks.push({ first: Math.max(first, 0), weights: Float64Array.from(weights, (w) => w ?? 0) });
  }
  return banks;
}

/** In-place radix-2 complex FFT; the length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = (re[b] as number) * cr - (im[b] as number) * ci;
        const ti = (re[b] as number) * ci + (im[b] as number) * cr;
        re[b] = (re[a] as number) - tr;
        im[b] = (im[a] as number) - ti;
        re[a] = (re[a] as number) + tr;
        im[a] = (im[a] as number) + ti;
        const next = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = next;
      }
    }
  }
}
