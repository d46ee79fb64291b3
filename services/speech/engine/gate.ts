// What lets audio through to a speech model: a detector that scores each frame of a channel. The
// model's configuration names its detector in the `gate` parameter (read with its other
// capabilities, inference/repository/capabilities.ts): Silero VAD (`vad`) for speech models, since
// Whisper hallucinates on silence; signal energy (`energy`) for models of non-speech signals such
// as keypad tones, which a voice detector would reject.
import type { InferenceClient } from "../../../inference/client/index.js";

/** Scores frames of one channel, in order; keeps whatever state it needs between calls. */
export interface SpeechGate {
  /** Samples (16 kHz) per frame. */
  readonly frameSamples: number;
  /** One score in [0, 1] per whole frame of `frames` (a multiple of frameSamples samples). */
  score(frames: Float32Array): Promise<Float32Array>;
  /**
   * `score` without a promise, for a gate that never waits (energy): a live channel scores a frame
   * some 30 times a second, and each promise saved is CPU saved per stream.
   */
  readonly scoreNow?: (frames: Float32Array) => Float32Array;
  /** The channel is done with the gate (ended, failed or aborted): it lets go of what it holds elsewhere. */
  close?(): void;
}

/** Silero's frame (the vad model's `frame_samples`): 32 ms at 16 kHz. */
export const DEFAULT_FRAME_SAMPLES = 512;

/**
 * Energy gate: a frame whose RMS level is at least `thresholdDbfs` scores 1, any other 0. -45 dBFS
 * lets through the quietest tones the dtmf model accepts (-40 dBFS per frequency) and keeps out
 * line noise and μ-law's idle pattern.
 */
export function energyGate(options: { frameSamples?: number; thresholdDbfs?: number } = {}): SpeechGate {
  const frameSamples = options.frameSamples ?? DEFAULT_FRAME_SAMPLES;
  const threshold = 10 ** ((options.thresholdDbfs ?? -45) / 20);
  const scoreNow = (frames: Float32Array): Float32Array => {
    const count = Math.floor(frames.length / frameSamples);
    const scores = new Float32Array(count);
    for (let f = 0; f < count; f++) {
      let sum = 0;
      for (let i = f * frameSamples; i < (f + 1) * frameSamples; i++) sum += frames[i]! * frames[i]!;
      scores[f] = Math.sqrt(sum / frameSamples) >= threshold ? 1 : 0;
    }
    return scores;
  };
  return { frameSamples, scoreNow, score: async (frames) => scoreNow(frames) };
}

/**
 * VAD gate: Silero VAD through the inference client. The model is recurrent, and each request
 * starts from a fresh state, so every call sends `contextFrames` frames already scored before the
 * new ones and keeps only the new frames' scores: the detector sees the run-up it needs.
 */
export function vadGate(inference: InferenceClient, options: { frameSamples?: number; contextFrames?: number; signal?: AbortSignal } = {}): SpeechGate {
  const frameSamples = options.frameSamples ?? DEFAULT_FRAME_SAMPLES;
  const contextSamples = (options.contextFrames ?? 16) * frameSamples;
  let context = new Float32Array(0);
  return {
    frameSamples,
    async score(frames) {
      const count = Math.floor(frames.length / frameSamples);
      if (count === 0) return new Float32Array(0);
      const fresh = frames.subarray(0, count * frameSamples);
      const audio = new Float32Array(context.length + fresh.length);
      audio.set(context);
      audio.set(fresh, context.length);
      const { probabilities } = await inference.vad(audio, { signal: options.signal });
      context = audio.slice(Math.max(0, audio.length - contextSamples));
      const scores = probabilities.slice(probabilities.length - count);
      if (scores.length !== count) throw new Error(`vad returned ${probabilities.length} frames for ${audio.length / frameSamples}`);
      return scores;
    },
  };
}
