// The audio half of the batch pipeline (DESIGN.md decision 7): probe → decode (denoise, mixdown
// unless the channels are recognised separately, loudness measured in the same pass and applied as
// one gain) → VAD or energy gate → chunks of at most 30 s → ASR → diarization. Each stage is a
// pure function of its inputs in its own module, so the job runner can persist what a stage
// returns and resume from there; runAudioPipeline composes them in one call for the runner (and
// the tests). No queue, no database here.
import type { InferenceClient } from "../../../inference/client/index.js";
import { decodeAudio, type DenoiseOptions } from "./decode.js";
import { diarize, type Diarization, type DiarizeOptions, type Speaker } from "./diarize.js";
import { probeMedia, RAW_FORMATS, UnusableMediaError, type MediaProbe, type RawAudio } from "../../audio/probe.js";
import type { LoudnessGain } from "../../audio/loudness.js";
import { recognizeChunks, type RecognitionChunk } from "./recognize.js";
import { boostWords, promptWithHints, type PhraseHintSet } from "../../arabic-text/phrase-hints.js";
import { gateOf, segmentChannel, type ChunkOptions, type Gate, type RegionOptions, type TimeSpan } from "./segment.js";
import { inSpan, tracerOf } from "../../../inference/telemetry/spans.js";

const tracer = tracerOf("arabicstt.jobs");
/** Each stage is a span of the job's trace (its inference calls below it). */
const stageSpan = <T>(stage: PipelineStage, work: () => Promise<T>) => inSpan(tracer, `pipeline ${stage}`, { attributes: { "arabicstt.pipeline.stage": stage } }, work);

export { probeMedia, UnusableMediaError, type MediaProbe, type UnusableMediaReason } from "../../audio/probe.js";
export { decodeAudio, decodeStream, audioFilters, DecodeFailedError, LOUDNESS_TARGET, PIPELINE_SAMPLE_RATE, type DecodedAudio, type DecodeOptions, type DenoiseOptions } from "./decode.js";
export { speechRegions, chunkRegions, energyProbabilities, detectSpeech, segmentChannel, gateOf, type Chunk, type TimeSpan, type Gate } from "./segment.js";
export { recognizeChunks, mapLimited, type RecognitionChunk, type RecognizedChunk } from "./recognize.js";
export { diarize, clusterEmbeddings, cosineDistance, type Diarization, type Speaker } from "./diarize.js";

export type PipelineStage = "probe" | "decode" | "segment" | "recognize" | "diarize";

export interface PipelineProgress {
  stage: PipelineStage;
  /** Share of this stage done, 0–1. */
  stageFraction: number;
  /** Share of the whole pipeline done, 0–1 (stages weighted by their usual share of the time). */
  fraction: number;
}

export interface AudioPipelineOptions {
  client: InferenceClient;
  /** ASR model of the repository ("whisper", "dtmf"). */
  model: string;
  /** Language code ("ar"); the model detects it when left out. */
  language?: string;
  prompt?: string;
  /**
   * max_alternatives: hypotheses asked of the model for every chunk (1 to 10); each segment keeps its
   * runner-ups (runner-ups.ts). Undefined or 1: one, and no segment has any.
   */
  maxAlternatives?: number;
  /** Phrase hints: put before `prompt` in the decoder's prompt, and matched against the recognised words (services/arabic-text/phrase-hints.ts). */
  phraseHints?: PhraseHintSet;
  /**
   * The job's encoding hint for headerless media (LINEAR16, MULAW, ALAW with the config's rate and channels):
   * used only when the file has no header the probe can read, since a header (a WAV's) is the truer word.
   */
  raw?: RawAudio;
  /** Denoise before recognition: true for `afftdn`, or which denoisers. Default none. */
  denoise?: boolean | DenoiseOptions;
  /** Loudness normalisation (one gain to LOUDNESS_TARGET). Default true. */
  loudnorm?: boolean;
  /**
   * Recognise every channel on its own (`separate_recognition_per_channel`): one speaker per channel.
   * Default false: the channels are mixed down to mono before anything else sees them (recognition.proto),
   * and recognised, diarized and billed as one.
   */
  separateChannels?: boolean;
  /** ASR requests in flight. Default 4. */
  concurrency?: number;
  segmentation?: RegionOptions & ChunkOptions;
  /** Speaker counts, and `requested` when the job asked for diarization (the spectral fallback then runs without the model). */
  diarization?: Pick<DiarizeOptions, "threshold" | "maxSpeakers" | "minSpeakers" | "requested">;
  signal?: AbortSignal;
  onProgress?: (progress: PipelineProgress) => void;
}

export interface PipelineWord {
  word: string;
  start: number;
  end: number;
  /** The model's probability of the word, 0–1. */
  confidence: number;
}

export interface PipelineSegment {
  channel: number;
  speaker: string;
  start: number;
  end: number;
  text: string;
  /** Mean of the words' probabilities; exp(average log-probability) when the model gave no words. */
  confidence: number;
  words: PipelineWord[];
  /** The model's runner-up texts for the segment (max_alternatives), most probable first; none when it gave none. */
  alternatives?: string[];
}

export interface ChannelSummary {
  channel: number;
  /** Where the gate found speech (or, for energy-gated models, signal). */
  regions: TimeSpan[];
  /** How many chunks went to the recogniser. */
  chunks: number;
}

export interface AudioPipelineResult {
  probe: MediaProbe;
  /**
   * The channels recognised: one per decoded channel, or one when mixed down (fewer than `probe.channels`
   * without `separateChannels`) or when all channels were identical.
   */
  channels: ChannelSummary[];
  /** True when a multichannel file carried the same signal on every channel and was treated as mono. */
  identicalChannels: boolean;
  /** What loudness normalisation measured and did; absent when it was off. */
  loudness?: LoudnessGain;
  gate: Gate;
  /** Language of the first chunk the model recognised (as asked, or detected). */
  language?: string;
  /** Every segment of every channel, in time order (channel order on ties). */
  segments: PipelineSegment[];
  speakers: Speaker[];
  diarization: Diarization;
}

const stageWeights: Record<PipelineStage, [number, number]> = {
  probe: [0, 0.02],
  decode: [0.02, 0.2],
  segment: [0.2, 0.3],
  recognize: [0.3, 0.92],
  diarize: [0.92, 1],
};

export async function runAudioPipeline(file: string, options: AudioPipelineOptions): Promise<AudioPipelineResult> {
  const { client, signal } = options;
  const report = (stage: PipelineStage, stageFraction: number) => {
    const [from, to] = stageWeights[stage];
    options.onProgress?.({ stage, stageFraction, fraction: Math.round((from + (to - from) * stageFraction) * 10_000) / 10_000 });
  };

  report("probe", 0);
  const { probe, gate } = await stageSpan("probe", async () => ({
    probe: await probeHinted(file, options.raw, signal),
    // Asked before decoding, so that an unknown model fails the job before the expensive part.
    gate: await gateOf(client, options.model, signal),
  }));
  report("probe", 1);

  const mixedDown = probe.channels > 1 && !options.separateChannels;
  const raw = RAW_FORMATS.includes(probe.formatName) ? options.raw : undefined;
  const decoded = await stageSpan("decode", () =>
    decodeAudio(file, { probe, raw, denoise: options.denoise, loudnorm: options.loudnorm, mixdown: mixedDown, signal, onProgress: (f) => report("decode", f) }),
  );
  const identicalChannels = decoded.channels.length > 1 && channelsIdentical(decoded.channels);
  const channels = identicalChannels ? [decoded.channels[0]!] : decoded.channels;
  // Said again now the loudness gain is applied, so that the stage's end is where its work ends.
  report("decode", 1);

  const summaries: ChannelSummary[] = [];
  const chunks: RecognitionChunk[] = [];
  await stageSpan("segment", async () => {
    for (const [channel, audio] of channels.entries()) {
      const { regions, chunks: channelChunks } = await segmentChannel(client, audio, {
        ...options.segmentation,
        gate,
        signal,
        onProgress: (f) => report("segment", (channel + f) / channels.length),
      });
      summaries.push({ channel, regions, chunks: channelChunks.length });
      chunks.push(...channelChunks.map((c) => ({ channel, start: c.start, end: c.end })));
    }
  });
  report("segment", 1);
  // Said before the first chunk returns, so a job shows "transcribing" while its longest stage runs.
  report("recognize", 0);

  const recognized = await stageSpan("recognize", () =>
    recognizeChunks(client, channels, chunks, {
      model: options.model,
      language: options.language,
      prompt: promptWithHints(options.phraseHints, options.prompt),
      maxAlternatives: options.maxAlternatives,
      concurrency: options.concurrency,
      signal,
      onProgress: (done, total) => report("recognize", total === 0 ? 1 : done / total),
    }),
  );
  const segments = recognized
    .flatMap((r) =>
      r.segments.map((s) => {
        const words = s.words.map((w) => ({ word: w.word, start: w.start, end: w.end, confidence: w.probability }));
        const boosted = boostWords(words, options.phraseHints);
        return {
          channel: r.chunk.channel,
          start: s.start,
          end: s.end,
          // A segment the hints rewrote reads as its words do.
          text: boosted.some((w, i) => w !== words[i]) || boosted.length !== words.length ? boosted.map((w) => w.word.trim()).join(" ") : s.text,
          confidence: s.words.length > 0 ? mean(s.words.map((w) => w.probability)) : clamp01(Math.exp(s.avgLogprob)),
          words: boosted,
          ...(s.alternatives.length > 0 ? { alternatives: s.alternatives } : {}),
        };
      }),
    )
    .sort((a, b) => a.start - b.start || a.channel - b.channel);

  report("diarize", 0);
  const diarized = await stageSpan("diarize", () => diarize(client, channels, segments, { ...options.diarization, signal }));
  const why = identicalChannels
    ? `the ${decoded.channels.length} channels carry the same signal, so the audio was treated as mono`
    : mixedDown
      ? `the ${probe.channels} channels were mixed down to mono, as separate_recognition_per_channel was not set`
      : undefined;
  if (why) diarized.diarization.reason = diarized.diarization.reason ? `${why}; ${diarized.diarization.reason}` : why;
  report("diarize", 1);

  return {
    probe,
    channels: summaries,
    identicalChannels,
    loudness: decoded.loudness,
    gate,
    language: recognized.find((r) => r.segments.length > 0)?.language ?? recognized[0]?.language,
    segments: segments.flatMap((s, i) => splitBySpeaker(s, diarized.segmentSpeakers[i]!, diarized.wordSpeakers[i]!)),
    speakers: diarized.speakers,
    diarization: diarized.diarization,
  };
}

/**
 * The segment as one segment per run of words of one speaker (most segments are one run), each with its
 * words' span and text; a segment without words keeps its own speaker.
 */
export function splitBySpeaker(segment: Omit<PipelineSegment, "speaker">, speaker: string, wordSpeakers: readonly string[]): PipelineSegment[] {
  if (segment.words.length === 0 || wordSpeakers.every((w) => w === wordSpeakers[0])) return [{ ...segment, speaker: wordSpeakers[0] ?? speaker }];
  // A model that writes its words with spaces (whisper) gets " " between them; one that does not (dtmf: "123#") none.
  const separator = /\s/.test(segment.text.trim()) ? " " : "";
  const runs: PipelineSegment[] = [];
  // The runner-ups are texts of the whole segment, with no word times to say where they would split: a split segment has none.
  const { alternatives: _, ...whole } = segment;
  segment.words.forEach((word, i) => {
    const last = runs[runs.length - 1];
    if (last && last.speaker === wordSpeakers[i]) last.words.push(word);
    else runs.push({ ...whole, speaker: wordSpeakers[i]!, words: [word] });
  });
  return runs.map((run, k) => ({
    ...run,
    start: k === 0 ? segment.start : run.words[0]!.start,
    end: k === runs.length - 1 ? segment.end : run.words[run.words.length - 1]!.end,
    text: run.words.map((w) => w.word.trim()).join(separator),
    confidence: mean(run.words.map((w) => w.confidence)),
  }));
}

/**
 * True when every channel carries the first one's signal, within −40 dB: a "stereo" file that is
 * really mono would otherwise be transcribed twice and diarized as two speakers.
 */
export function channelsIdentical(channels: readonly Float32Array[]): boolean {
  const first = channels[0]!;
  let energy = 0;
  for (let i = 0; i < first.length; i++) energy += first[i]! * first[i]!;
  return channels.slice(1).every((other) => {
    if (other.length !== first.length) return false;
    let difference = 0;
    for (let i = 0; i < first.length; i++) difference += (first[i]! - other[i]!) ** 2;
    return difference <= energy * 1e-4;
  });
}

const mean = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000;
const clamp01 = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;

/**
 * The file's own header first; the hint only when there is none. Without a hint, headerless bytes fail here
 * (not_media) with a message saying what would read them.
 */
async function probeHinted(file: string, raw: RawAudio | undefined, signal?: AbortSignal): Promise<MediaProbe> {
  try {
    return await probeMedia(file, { signal });
  } catch (err) {
    if (!(err instanceof UnusableMediaError) || err.reason !== "not_media") throw err;
    if (raw) return probeMedia(file, { signal, raw });
    throw new UnusableMediaError(
      "not_media",
      `${err.message.replace(/^media: /, "")}; headerless audio needs config.encoding (AUDIO_ENCODING_LINEAR16, AUDIO_ENCODING_MULAW or AUDIO_ENCODING_ALAW) and config.sample_rate_hz`,
    );
  }
}
