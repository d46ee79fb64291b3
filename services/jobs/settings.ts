// What the runner needs from a job's stored recognition config. Jobs keep the config as the client sent it
// (proto JSON, field names in lowerCamelCase, enums by name), and this is the one place that reads it.
import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { languageOrDefault } from "../arabic-text/language.js";
import { textChainOptions } from "../arabic-text/options.js";
import type { TextChainOptions } from "../arabic-text/chain.js";
import { phraseHintsOf, type PhraseHintSet } from "../arabic-text/phrase-hints.js";
import { RecognitionConfigSchema, type EndpointingConfig } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import type { ChunkOptions, RegionOptions } from "./pipeline/segment.js";
import type { RawAudio } from "../audio/probe.js";

export type DenoiseSetting = "off" | "spectral" | "neural";

export interface RecognitionSettings {
  /** Empty: the platform's default model. */
  model: string;
  languageCode: string;
  denoise: DenoiseSetting;
  /** 0: read from the file. */
  sampleRateHz: number;
  /** 0: read from the file. */
  audioChannelCount: number;
  /** The encoding hint as headerless PCM (LINEAR16, MULAW, ALAW with the rate and channels); undefined for the others. */
  raw?: RawAudio;
  separateRecognitionPerChannel: boolean;
  /** Set when the config has diarization_config turned on: the job asked for speakers (mono audio is diarized even without the speaker model). */
  diarization?: { minSpeakers?: number; maxSpeakers?: number; requested: true };
  /**
   * False when diarization_config is present with enable_speaker_diarization false: the transcript carries no
   * speaker labels. Without a diarization_config the platform's default stands (one speaker per channel for
   * multichannel audio, clustering when the speaker model is ready), as before the switch was served.
   */
  speakerLabels: boolean;
  /** enable_word_time_offsets / enable_word_confidence: what the job's words show through the API (default false, as Google). */
  wordTimeOffsets: boolean;
  wordConfidence: boolean;
  /** phrase_hints, checked (INVALID_ARGUMENT naming `config.phrase_hints…`); undefined when none. */
  phraseHints?: PhraseHintSet;
  /** endpointing_config as the pipeline's segmentation (see segmentationOf); undefined: the pipeline's own. */
  segmentation?: RegionOptions & ChunkOptions;
  /** max_alternatives above 1 (protovalidate keeps it at most 10): hypotheses asked of the model per chunk; undefined: one. */
  maxAlternatives?: number;
}

/** The pipeline's own shortest pause between speech regions (segment.ts, for VAD-gated models). */
const VAD_MIN_SILENCE_SECONDS = 0.3;

/**
 * endpointing_config for a batch job, whose segments come from the pipeline's chunks (segment.ts): a pause
 * of `silence_duration` or longer is never bridged, so the speech on either side lands in different chunks
 * and so in different segments (shorter pauses may still end a segment where the model ends one); no chunk,
 * and so no segment, is longer than `max_utterance_duration`; `speech_threshold` is the VAD's start
 * threshold. `utterance_end_silence` is not read: batch transcripts carry no speech events (the field table
 * refuses it for CreateJob).
 */
export function segmentationOf(endpointing: EndpointingConfig | undefined): (RegionOptions & ChunkOptions) | undefined {
  if (!endpointing) return undefined;
  const seconds = (d: EndpointingConfig["silenceDuration"]) => (d ? Number(d.seconds) + d.nanos / 1e9 : undefined);
  const silence = seconds(endpointing.silenceDuration);
  const longest = seconds(endpointing.maxUtteranceDuration);
  return {
    ...(silence !== undefined ? { maxMergeGapSeconds: silence, ...(silence < VAD_MIN_SILENCE_SECONDS ? { minSilenceSeconds: silence } : {}) } : {}),
    ...(longest !== undefined ? { maxChunkSeconds: longest } : {}),
    ...(endpointing.speechThreshold ? { threshold: endpointing.speechThreshold } : {}),
  };
}

const denoiseByName: Record<string, DenoiseSetting> = {
  DENOISE_MODE_UNSPECIFIED: "off",
  DENOISE_MODE_OFF: "off",
  DENOISE_MODE_SPECTRAL: "spectral",
  DENOISE_MODE_NEURAL: "neural",
};

/**
 * The Arabic text chain's options of a job's config (verbatim, arabic_text_config, redaction_config,
 * profanity_filter), checked: a bad value is INVALID_ARGUMENT naming `config.<field>` (at CreateJob).
 */
export function textOptionsOf(config: Record<string, unknown>): TextChainOptions {
  const message = fromJson(RecognitionConfigSchema, config as JsonObject, { ignoreUnknownFields: true });
  return textChainOptions(message, "config.");
}

export function settingsOf(config: Record<string, unknown>): RecognitionSettings {
  const message = config.phraseHints || config.endpointingConfig ? fromJson(RecognitionConfigSchema, config as JsonObject, { ignoreUnknownFields: true }) : undefined;
  const phraseHints = config.phraseHints ? phraseHintsOf(message?.phraseHints, "config.") : undefined;
  const segmentation = segmentationOf(message?.endpointingConfig);
  const diarizationConfig = config.diarizationConfig as { enableSpeakerDiarization?: boolean; minSpeakerCount?: number; maxSpeakerCount?: number } | undefined;
  // A config sent with the switch off asks for no speakers, so it must not turn the clustering on either.
  const diarization = diarizationConfig?.enableSpeakerDiarization === true ? diarizationConfig : undefined;
  return {
    model: typeof config.model === "string" ? config.model : "",
    languageCode: languageOrDefault(typeof config.languageCode === "string" ? config.languageCode : undefined),
    denoise: denoiseByName[String(config.denoise ?? "DENOISE_MODE_UNSPECIFIED")] ?? "off",
    sampleRateHz: typeof config.sampleRateHz === "number" ? config.sampleRateHz : 0,
    audioChannelCount: typeof config.audioChannelCount === "number" ? config.audioChannelCount : 0,
    separateRecognitionPerChannel: config.separateRecognitionPerChannel === true,
    ...rawAudioOf(config),
    diarization: diarization
      ? { minSpeakers: diarization.minSpeakerCount || undefined, maxSpeakers: diarization.maxSpeakerCount || undefined, requested: true as const }
      : undefined,
    speakerLabels: diarizationConfig === undefined || diarizationConfig.enableSpeakerDiarization === true,
    wordTimeOffsets: config.enableWordTimeOffsets === true,
    wordConfidence: config.enableWordConfidence === true,
    ...(phraseHints ? { phraseHints } : {}),
    ...(segmentation ? { segmentation } : {}),
    ...(typeof config.maxAlternatives === "number" && config.maxAlternatives > 1 ? { maxAlternatives: config.maxAlternatives } : {}),
  };
}

const rawFormatOf: Readonly<Record<string, RawAudio["format"]>> = {
  AUDIO_ENCODING_LINEAR16: "s16le",
  AUDIO_ENCODING_MULAW: "mulaw",
  AUDIO_ENCODING_ALAW: "alaw",
};

/** `{ raw }` for a raw encoding hint: its rate (which the contract requires with these encodings) and channels (0 means one). */
function rawAudioOf(config: Record<string, unknown>): { raw?: RawAudio } {
  const format = rawFormatOf[String(config.encoding)];
  const sampleRate = typeof config.sampleRateHz === "number" ? config.sampleRateHz : 0;
  if (!format || sampleRate <= 0) return {};
  const channels = typeof config.audioChannelCount === "number" && config.audioChannelCount > 0 ? config.audioChannelCount : 1;
  return { raw: { format, sampleRate, channels } };
}
