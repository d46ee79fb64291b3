// Stage 3: where the speech is, and how to cut it into recogniser-sized chunks.
//
// The algorithms are pure functions over per-frame speech probabilities (speechRegions,
// chunkRegions); the probabilities come from the `vad` model through the inference client
// (detectSpeech, in bounded windows) or, for models whose config says `gate: "energy"` (dtmf: keypad
// tones are not speech and Silero would drop them), from the signal's energy (energyProbabilities).
//
// Chunks are at most `maxChunkSeconds` (Whisper's 30 s window) including padding. Neighbouring
// regions are merged into one chunk while it fits and the pause between them is short, because
// recognisers do better with context than with isolated phrases; a region longer than a chunk is
// cut at the longest pause inside the allowed window, or at its least speech-like frame when
// the speaker never pauses, so a cut falls mid-word only when there is no better place.
import type { InferenceClient } from "../../../inference/client/index.js";
import { PIPELINE_SAMPLE_RATE } from "./decode.js";
import { capabilitiesOf, type GateKind } from "../../../inference/repository/capabilities.js";

/** Seconds from the start of the file (or of the audio given). */
export interface TimeSpan {
  start: number;
  end: number;
}

export interface FrameProbabilities {
  /** Duration of one frame in seconds. */
  frameSeconds: number;
  /** Speech probability of each frame, 0–1, in order. */
  probabilities: Float32Array;
}

export interface RegionOptions {
  /** A frame at or above this starts speech. Default 0.5 (Silero's own). */
  threshold?: number;
  /** Speech continues while frames stay at or above this. Default threshold − 0.15. */
  negativeThreshold?: number;
  /** Speech shorter than this is dropped (clicks, coughs). Default 0.1 s. */
  minSpeechSeconds?: number;
  /** Pauses shorter than this do not end a region. Default 0.3 s. */
  minSilenceSeconds?: number;
}

export interface ChunkOptions {
  /** Longest chunk, padding included. Default 30 s (Whisper's window). */
  maxChunkSeconds?: number;
  /** A cut inside a long region leaves at least this much in the chunk before it. Default 5 s. */
  minChunkSeconds?: number;
  /** Regions separated by a longer pause are not merged into one chunk. Default 2 s. */
  maxMergeGapSeconds?: number;
  /** Audio kept before and after each chunk's speech, so onsets and final consonants survive. Default 0.2 s. */
  paddingSeconds?: number;
  /** Frames below this count as pause when looking for a cut. Default 0.35. */
  silenceThreshold?: number;
}

export interface Chunk extends TimeSpan {
  /** The speech regions (unpadded) the chunk covers. */
  regions: TimeSpan[];
}

/** Speech regions from per-frame probabilities: hysteresis thresholds, short pauses bridged, blips dropped. */
export function speechRegions(input: FrameProbabilities, options: RegionOptions = {}): TimeSpan[] {
  const { frameSeconds, probabilities } = input;
  const threshold = options.threshold ?? 0.5;
  const negative = options.negativeThreshold ?? Math.max(0.01, threshold - 0.15);
  const minSpeechFrames = Math.max(1, Math.round((options.minSpeechSeconds ?? 0.1) / frameSeconds));
  const minSilenceFrames = Math.max(1, Math.round((options.minSilenceSeconds ?? 0.3) / frameSeconds));

  const raw: [number, number][] = [];
  let start = -1;
  let silentSince = -1;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (start < 0) {
      if (p >= threshold) {
        start = i;
        silentSince = -1;
      }
      continue;
    }
    if (p >= negative) {
      silentSince = -1;
    } else {
      if (silentSince < 0) silentSince = i;
      if (i + 1 - silentSince >= minSilenceFrames) {
        raw.push([start, silentSince]);
        start = -1;
      }
    }
  }
  if (start >= 0) raw.push([start, silentSince >= 0 ? silentSince : probabilities.length]);

  return raw.filter(([s, e]) => e - s >= minSpeechFrames).map(([s, e]) => ({ start: s * frameSeconds, end: e * frameSeconds }));
}

/**
 * Chunks of at most `maxChunkSeconds` covering every region, padded, within [0, durationSeconds].
 * Long regions are cut at pauses found in `input` (the same probabilities the regions came from).
 */
export function chunkRegions(regions: readonly TimeSpan[], input: FrameProbabilities, durationSeconds: number, options: ChunkOptions = {}): Chunk[] {
  const maxChunk = options.maxChunkSeconds ?? 30;
  const pad = Math.min(options.paddingSeconds ?? 0.2, maxChunk / 4);
  const minChunk = Math.min(options.minChunkSeconds ?? 5, maxChunk / 2);
  const maxGap = options.maxMergeGapSeconds ?? 2;
  const silence = options.silenceThreshold ?? 0.35;
  // Speech per chunk, so that padding both sides still fits.
  const maxSpeech = maxChunk - 2 * pad;

  // First split every region that is too long at its best pauses; then merge neighbours greedily.
  const pieces: TimeSpan[] = [];
  for (const region of regions) {
    let start = region.start;
    while (region.end - start > maxSpeech) {
      const cut = bestCut(input, start + minChunk, start + maxSpeech, silence);
      pieces.push({ start, end: cut });
      start = cut;
    }
    pieces.push({ start, end: region.end });
  }

  const groups: TimeSpan[][] = [];
  for (const piece of pieces) {
    const group = groups[groups.length - 1];
    const last = group?.[group.length - 1];
    if (group && last && piece.start - last.end <= maxGap && piece.end - group[0]!.start <= maxSpeech) group.push(piece);
    else groups.push([piece]);
  }

  // Pad, without overlapping a neighbour: a pause shorter than two paddings is shared at its middle.
  return groups.map((group, i) => {
    const first = group[0]!;
    const last = group[group.length - 1]!;
    const previousEnd = groups[i - 1]?.at(-1)?.end;
    const nextStart = groups[i + 1]?.[0]?.start;
    const start = Math.max(0, first.start - pad, previousEnd === undefined ? 0 : (previousEnd + first.start) / 2);
    const end = Math.min(durationSeconds, last.end + pad, nextStart === undefined ? Infinity : (last.end + nextStart) / 2);
    return { start: round(start), end: round(end), regions: group.map((r) => ({ start: round(r.start), end: round(r.end) })) };
  });
}

/**
 * Where to cut speech between `from` and `to` seconds: the middle of the longest run of frames
 * below `silence`; without one, the least speech-like frame (the later one on ties, so chunks run
 * long). Frames are read from the probabilities the regions were found in.
 */
export function bestCut(input: FrameProbabilities, from: number, to: number, silence: number): number {
  const { frameSeconds, probabilities } = input;
  const first = Math.max(0, Math.ceil(from / frameSeconds));
  const last = Math.min(probabilities.length - 1, Math.floor(to / frameSeconds) - 1);
  if (last < first) return to;
  let bestRun = { length: 0, start: -1 };
  let runStart = -1;
  let minFrame = last;
  for (let i = first; i <= last; i++) {
    const p = probabilities[i]!;
    if (p <= probabilities[minFrame]!) minFrame = i;
    if (p < silence) {
      if (runStart < 0) runStart = i;
      if (i + 1 - runStart >= bestRun.length) bestRun = { length: i + 1 - runStart, start: runStart };
    } else {
      runStart = -1;
    }
  }
  const frame = bestRun.length > 0 ? bestRun.start + bestRun.length / 2 : minFrame + 0.5;
  return Math.min(to, Math.max(from, frame * frameSeconds));
}

export interface EnergyGateOptions {
  /** Frame length in samples. Default 512 (32 ms at 16 kHz, like the VAD). */
  frameSamples?: number;
  /** A frame whose RMS level is at least this (dB re full scale) counts as signal. Default −45 dBFS. */
  thresholdDbfs?: number;
}

/**
 * 1 for frames whose level reaches the threshold, else 0: the gate for models that are not fed
 * speech (config `gate: "energy"`, e.g. dtmf). Pure; the output reads like VAD probabilities.
 */
export function energyProbabilities(audio: Float32Array, options: EnergyGateOptions = {}): FrameProbabilities {
  const frameSamples = options.frameSamples ?? 512;
  const threshold = options.thresholdDbfs ?? -45;
  // RMS of a full-scale sine is −3 dBFS; compare mean square to the threshold's square instead of taking logs.
  const minMeanSquare = 10 ** (threshold / 10);
  const frames = Math.ceil(audio.length / frameSamples);
  const probabilities = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const end = Math.min(audio.length, (f + 1) * frameSamples);
    let sum = 0;
    for (let i = f * frameSamples; i < end; i++) sum += audio[i]! * audio[i]!;
    probabilities[f] = sum / frameSamples >= minMeanSquare ? 1 : 0;
  }
  return { frameSeconds: frameSamples / PIPELINE_SAMPLE_RATE, probabilities };
}

export interface DetectSpeechOptions {
  /** Audio per VAD request. Default 300 s (19 MB of FP32, well under the client's message limit). */
  windowSeconds?: number;
  signal?: AbortSignal;
  /** Share of the audio analysed so far, 0–1. */
  onProgress?: (fraction: number) => void;
}

/**
 * Speech probabilities of 16 kHz mono audio from the `vad` model, asked window by window so that
 * hours of audio are never one request. Windows are whole frames long, so frame times line up;
 * the model's state starts afresh in each window, which costs at most a frame or two of accuracy
 * every `windowSeconds`.
 */
export async function detectSpeech(client: Pick<InferenceClient, "vad">, audio: Float32Array, options: DetectSpeechOptions = {}): Promise<FrameProbabilities> {
  const windowSeconds = options.windowSeconds ?? 300;
  let frameSeconds: number | undefined;
  const parts: Float32Array[] = [];
  let windowSamples = Math.max(1, Math.round(windowSeconds * PIPELINE_SAMPLE_RATE));
  for (let at = 0; at < audio.length; ) {
    options.signal?.throwIfAborted();
    const window = audio.subarray(at, Math.min(audio.length, at + windowSamples));
    const result = await client.vad(window, { signal: options.signal });
    if (frameSeconds === undefined) {
      frameSeconds = result.frameSeconds;
      // Round the window to whole frames once the frame size is known.
      const frameSamples = Math.round(frameSeconds * PIPELINE_SAMPLE_RATE);
      windowSamples = Math.max(frameSamples, Math.floor(windowSamples / frameSamples) * frameSamples);
      const whole = Math.min(window.length, windowSamples);
      parts.push(result.probabilities.subarray(0, Math.ceil(whole / frameSamples)));
      at += whole;
    } else {
      parts.push(result.probabilities);
      at += window.length;
    }
    options.onProgress?.(Math.min(1, at / audio.length));
  }
  const probabilities = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    probabilities.set(part, offset);
    offset += part.length;
  }
  return { frameSeconds: frameSeconds ?? 512 / PIPELINE_SAMPLE_RATE, probabilities };
}

export type Gate = GateKind;

export interface SegmentOptions extends RegionOptions, ChunkOptions {
  /** How to find the audio the model should hear: the model config's `gate` parameter. */
  gate: Gate;
  energy?: EnergyGateOptions;
  vadWindowSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface Segmentation {
  regions: TimeSpan[];
  chunks: Chunk[];
}

/** Speech regions and chunks of one channel of 16 kHz audio. */
export async function segmentChannel(client: Pick<InferenceClient, "vad">, audio: Float32Array, options: SegmentOptions): Promise<Segmentation> {
  const probabilities =
    options.gate === "energy"
      ? energyProbabilities(audio, options.energy)
      : await detectSpeech(client, audio, { windowSeconds: options.vadWindowSeconds, signal: options.signal, onProgress: options.onProgress });
  // An energy gate is binary, so bridge only real pauses and keep short keypad tones.
  const regionOptions: RegionOptions =
    options.gate === "energy" ? { threshold: 0.5, negativeThreshold: 0.5, minSpeechSeconds: 0.03, minSilenceSeconds: 0.1, ...options } : options;
  const regions = speechRegions(probabilities, regionOptions);
  const chunks = chunkRegions(regions, probabilities, audio.length / PIPELINE_SAMPLE_RATE, options);
  options.onProgress?.(1);
  return { regions, chunks };
}

/** The gate a model's configuration asks for (`parameters.gate`); VAD when it says nothing. */
export async function gateOf(client: Pick<InferenceClient, "modelConfig">, model: string, signal?: AbortSignal): Promise<Gate> {
  // What gates a model's audio is one of its declared capabilities (config.pbtxt), read in one place.
  return capabilitiesOf(model, (await client.modelConfig(model, { signal })).parameters).gate;
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
