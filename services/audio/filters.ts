// The ffmpeg `-af` chain before recognition: denoising (the FFT denoiser `afftdn`, or RNNoise's `arnndn` with a
// configured model) and the mean mixdown. One chain for every caller that has ffmpeg decode whole files: the
// batch pipeline's decode (services/jobs/pipeline/decode.ts) and Recognize (services/speech/recognize.ts), so
// DENOISE_MODE_SPECTRAL and DENOISE_MODE_NEURAL filter the same way whichever RPC asked.
import { InvalidArgumentError } from "../platform/errors/errors.js";

export interface DenoiseOptions {
  /** FFT denoiser (`afftdn`), no model needed. Default true when denoising is asked for. */
  fft?: boolean;
  /**
   * An RNNoise model file for `arnndn` (e.g. one of the `rnnoise-models` .rnnn files), from
   * configuration. Only letters, digits and `_ . / -` are allowed in the path, so it needs no
   * filtergraph escaping.
   */
  rnnoiseModel?: string;
}

/** Which denoisers a request's mode names: none for off, the FFT one for spectral, RNNoise's alone for neural. */
export function denoiseOptionsOf(mode: "off" | "spectral" | "neural", rnnoiseModel: string | undefined): DenoiseOptions | undefined {
  if (mode === "off") return undefined;
  return mode === "neural" ? { fft: false, rnnoiseModel } : { fft: true };
}

/** The `-af` filter chain for these options, or undefined when there is nothing to apply. */
export function audioFilters(options: { denoise?: boolean | DenoiseOptions; mixdown?: boolean; channels?: number }): string | undefined {
  const filters: string[] = [];
  const denoise: DenoiseOptions | undefined = options.denoise === true ? { fft: true } : options.denoise || undefined;
  if (denoise) {
    if (denoise.fft ?? true) filters.push("afftdn");
    if (denoise.rnnoiseModel !== undefined) {
      if (!/^[\w./-]+$/.test(denoise.rnnoiseModel)) {
        throw new InvalidArgumentError("denoise.rnnoise_model", "the RNNoise model path may hold only letters, digits and _ . / -");
      }
      filters.push(`arnndn=m=${denoise.rnnoiseModel}`);
    }
  }
  // Denoise each channel before mixing: their noise differs (two ends of a call). The mean, not ffmpeg's
  // own -ac 1 matrix, which sums stereo at 1/√2 each in float, +3 dB for a signal on both channels.
  const channels = options.channels ?? 1;
  if (options.mixdown && channels > 1) {
    const weight = String(Math.round((1 / channels) * 1e6) / 1e6);
    filters.push(`pan=mono|c0=${Array.from({ length: channels }, (_, c) => `${weight}*c${c}`).join("+")}`);
  }
  return filters.length > 0 ? filters.join(",") : undefined;
}
