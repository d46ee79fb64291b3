// Proto to domain and back for SpeechService: configs become LiveRecognitionConfig, engine outputs
// become StreamingRecognizeResponse fields. No logic beyond the mapping and the config checks that
// only make sense in proto terms (enum values, fields live recognition does not serve).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { audioEncodingList, isAudioEncoding, type AudioEncoding as DomainEncoding } from "../audio/encodings.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import type { EngineOutput, SpeechEventKind } from "./engine/types.js";
import type { LiveRecognition, LiveRecognitionConfig } from "./live-recognition.js";
import {
  AudioEncoding,
  DenoiseMode,
  type RecognitionConfig,
  type SpeechRecognitionAlternativeSchema,
  type StreamingRecognitionConfig,
  type StreamingRecognitionResultSchema,
} from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { SpeechEventType, type SpeechEventSchema, type StreamingRecognitionMetadataSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { billableSeconds } from "../usage/billable.js";
import { FlacDecoder, OggOpusStreamDecoder } from "../audio/sources.js";
import { textChainOptions } from "../arabic-text/options.js";
import { phraseHintsOf } from "../arabic-text/phrase-hints.js";

/** The audio module's encoding of a proto AudioEncoding: the one of the same name (AUDIO_ENCODING_LINEAR16 is LINEAR16); none for UNSPECIFIED and AUTO. */
function encodingOf(value: AudioEncoding): DomainEncoding | undefined {
  const name = AudioEncoding[value] as string | undefined;
  return name !== undefined && isAudioEncoding(name) ? name : undefined;
}

export function durationMs(d: Duration | undefined): number | undefined {
  return d ? Number(d.seconds) * 1000 + d.nanos / 1e6 : undefined;
}

export function durationOf(seconds: number): MessageInitShape<typeof import("@bufbuild/protobuf/wkt").DurationSchema> {
  const whole = Math.floor(seconds);
  return { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1e9) };
}

/** The live config of a StreamingRecognitionConfig; `prefix` is where it sits in the request. */
export function liveConfigOf(streaming: StreamingRecognitionConfig, prefix: string): LiveRecognitionConfig {
  return {
    ...recognitionConfigOf(streaming.config as RecognitionConfig, `${prefix}.config`),
    interimResults: streaming.interimResults,
    voiceActivityEvents: streaming.voiceActivityEvents,
    singleUtterance: streaming.singleUtterance,
    dtmfEvents: streaming.dtmfEvents,
  };
}

/**
 * The recognition part of a RecognitionConfig at `prefix`. `content` is the whole audio when
 * there is one (Recognize): AUDIO_ENCODING_AUTO and UNSPECIFIED are then read from its header.
 */
export function recognitionConfigOf(config: RecognitionConfig, prefix: string, content?: Uint8Array): LiveRecognitionConfig {
  const field = (name: string) => `${prefix}.${name}`;
  let format: LiveRecognitionConfig["format"];
  const encoding = encodingOf(config.encoding);
  if (encoding) {
    format = { encoding, sampleRateHertz: config.sampleRateHz, channels: config.audioChannelCount };
  } else if (content) {
    format = sniffFormat(content, field("encoding"));
  } else {
    throw new InvalidArgumentError(
      field("encoding"),
      config.encoding === AudioEncoding.AUTO
        ? `AUDIO_ENCODING_AUTO is for Recognize and batch jobs; live audio needs ${audioEncodingList()}`
        : `live recognition needs an encoding: ${audioEncodingList()}`,
    );
  }
  if (config.denoise !== DenoiseMode.UNSPECIFIED && config.denoise !== DenoiseMode.OFF) {
    throw new InvalidArgumentError(field("denoise"), "live recognition does not denoise (it would add latency); leave it unset or OFF");
  }
  // Checked here as well as by the contract's rule, so a config that reaches this function unvalidated is refused the same way.
  if (!Number.isInteger(config.maxAlternatives) || config.maxAlternatives < 0 || config.maxAlternatives > MAX_ALTERNATIVES) {
    throw new InvalidArgumentError(field("max_alternatives"), `must be 0 to ${MAX_ALTERNATIVES} (0 or 1: one hypothesis)`);
  }
  const diarization = config.diarizationConfig;
  const endpointing = config.endpointingConfig;
  return {
    model: config.model,
    languageCode: config.languageCode,
    format,
    separateChannels: config.separateRecognitionPerChannel,
    wordTimeOffsets: config.enableWordTimeOffsets,
    wordConfidence: config.enableWordConfidence,
    interimResults: false,
    voiceActivityEvents: false,
    singleUtterance: false,
    silenceMs: durationMs(endpointing?.silenceDuration),
    utteranceEndSilenceMs: durationMs(endpointing?.utteranceEndSilence),
    maxUtteranceMs: durationMs(endpointing?.maxUtteranceDuration),
    speechThreshold: endpointing?.speechThreshold || undefined,
    // Numbers as digits unless verbatim, diacritics, redaction, profanity: each result goes through the text chain.
    text: textChainOptions(config, `${prefix}.`),
    // Checked here (INVALID_ARGUMENT naming the field); the decoder's prompt and the boost of each decode's words.
    ...(config.phraseHints?.phrases.length ? { phraseHints: phraseHintsOf(config.phraseHints, `${prefix}.`) } : {}),
    // An n-best from each final's decode; 0 and 1 both mean the one hypothesis every result carries.
    ...(config.maxAlternatives > 1 ? { maxAlternatives: config.maxAlternatives } : {}),
    // The counts are checked by the contract (1–10, min ≤ max); they mean nothing with the switch off.
    ...(diarization?.enableSpeakerDiarization ? { diarization: { minSpeakers: diarization.minSpeakerCount, maxSpeakers: diarization.maxSpeakerCount } } : {}),
  };
}

/** The header's channel count, or 0 ("read it while decoding") when the header is not all there. */
function headerChannels(decoder: { headerChannels(bytes: Uint8Array): number | undefined }, bytes: Uint8Array, field: string): number {
  try {
    return decoder.headerChannels(bytes) ?? 0;
  } catch (err) {
    throw new InvalidArgumentError(field, err instanceof Error ? err.message : String(err));
  }
}

/** True for a whole file whose format sniffFormat reads from its first bytes (WAV, FLAC, Ogg). */
export function sniffable(bytes: Uint8Array): boolean {
  const tag = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  return tag(0, 4) === "fLaC" || tag(0, 4) === "OggS" || (tag(0, 4) === "RIFF" && tag(8, 4) === "WAVE");
}

/** The format of a whole file from its first bytes: WAV (16-bit PCM), FLAC or Ogg/Opus. */
function sniffFormat(bytes: Uint8Array, field: string): LiveRecognitionConfig["format"] {
  const tag = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
  // The header's channel count, so separate_recognition_per_channel needs no audio_channel_count for them.
  if (tag(0, 4) === "fLaC") return { encoding: "FLAC", sampleRateHertz: 0, channels: headerChannels(new FlacDecoder({ encoding: "FLAC", sampleRateHertz: 0, channels: 0 }, "FLAC"), bytes, field) };
  if (tag(0, 4) === "OggS") return { encoding: "OGG_OPUS", sampleRateHertz: 0, channels: headerChannels(new OggOpusStreamDecoder({ encoding: "OGG_OPUS", sampleRateHertz: 0, channels: 0 }, "Ogg/Opus"), bytes, field) };
  if (tag(0, 4) === "RIFF" && tag(8, 4) === "WAVE") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 12; at + 8 <= bytes.length; at += 8 + view.getUint32(at + 4, true) + (view.getUint32(at + 4, true) % 2)) {
      if (tag(at, 4) !== "fmt " || at + 24 > bytes.length) continue;
      const pcm = view.getUint16(at + 8, true) === 1 || view.getUint16(at + 8, true) === 0xfffe;
      if (!pcm || view.getUint16(at + 22, true) !== 16) throw new InvalidArgumentError(field, "only 16-bit PCM WAV files are read; send FLAC, or raw audio with its encoding");
      return { encoding: "LINEAR16", sampleRateHertz: view.getUint32(at + 12, true), channels: view.getUint16(at + 10, true) };
    }
  }
  throw new InvalidArgumentError(field, "the audio format could not be detected (WAV, FLAC and Ogg/Opus are); set the encoding");
}

const eventTypes: Record<SpeechEventKind, SpeechEventType> = {
  speech_begin: SpeechEventType.SPEECH_BEGIN,
  speech_end: SpeechEventType.SPEECH_END,
  end_of_single_utterance: SpeechEventType.END_OF_SINGLE_UTTERANCE,
  utterance_end: SpeechEventType.UTTERANCE_END,
  dtmf: SpeechEventType.DTMF,
};

/** What responses say about the session they belong to. */
export interface SessionFacts {
  sessionId: string;
  languageCode: string;
  processedSeconds: number;
  channels: number;
  bytesReceived: number;
  /** Bytes whose outputs are all out and stored (0 when unknown: browser sessions, containers). */
  bytesCommitted?: number;
}

export function factsOf(recognition: LiveRecognition, bytesCommitted?: number): SessionFacts {
  return {
    sessionId: recognition.id,
    languageCode: recognition.languageCode,
    processedSeconds: recognition.processedSeconds,
    channels: recognition.channels,
    bytesReceived: recognition.bytesReceived,
    bytesCommitted,
  };
}

export function metadataOf(facts: SessionFacts, requestId: string): MessageInitShape<typeof StreamingRecognitionMetadataSchema> {
  return {
    requestId,
    sessionId: facts.sessionId,
    audioProcessed: durationOf(facts.processedSeconds),
    billedDuration: durationOf(billableSeconds(facts.processedSeconds, facts.channels)),
    audioBytesReceived: BigInt(facts.bytesReceived),
    audioBytesCommitted: BigInt(facts.bytesCommitted ?? 0),
  };
}

/** Fields 1 to 4, shared by StreamingRecognizeResponse and WatchLiveSessionResponse. */
export interface ResponseFields {
  resultIndex: bigint;
  results?: MessageInitShape<typeof StreamingRecognitionResultSchema>[];
  speechEvent?: MessageInitShape<typeof SpeechEventSchema>;
  metadata?: MessageInitShape<typeof StreamingRecognitionMetadataSchema>;
}

/** The most hypotheses RecognitionConfig.max_alternatives may ask for. */
export const MAX_ALTERNATIVES = 10;

/**
 * A final's runner-up hypotheses after its first alternative: text only. The models time and score
 * only their best hypothesis, so these carry no words and confidence 0 ("not set"), as Google's
 * Speech-to-Text leaves confidence to the top alternative.
 */
export function runnerUpAlternatives(texts: readonly string[] | undefined): MessageInitShape<typeof SpeechRecognitionAlternativeSchema>[] {
  return (texts ?? []).map((transcript) => ({ transcript, confidence: 0, words: [] }));
}

/** Fields 1 to 4 of a StreamingRecognizeResponse (and WatchLiveSessionResponse) for one engine output. */
export function responseOf(
  output: EngineOutput,
  session: SessionFacts | (() => SessionFacts),
  requestId: string,
  options: { wordTimeOffsets: boolean; wordConfidence: boolean; speakerLabels?: boolean },
): ResponseFields {
  const facts = typeof session === "function" ? session : () => session;
  if (output.kind === "event") {
    const { event } = output;
    return {
      resultIndex: BigInt(output.index),
      speechEvent: { type: eventTypes[event.type], offset: durationOf(event.offsetSeconds), channelTag: event.channel, dtmfDigit: event.dtmfDigit ?? "" },
    };
  }
  const { result } = output;
  const wordsWanted = result.isFinal && (options.wordTimeOffsets || options.wordConfidence || options.speakerLabels);
  const streamingResult: MessageInitShape<typeof StreamingRecognitionResultSchema> = {
    alternatives: [
      {
        transcript: result.transcript,
        confidence: result.isFinal ? result.confidence : 0,
        words: wordsWanted
          ? result.words.map((w) => ({
              word: w.word,
              ...(options.wordTimeOffsets ? { startOffset: durationOf(w.start), endOffset: durationOf(w.end) } : {}),
              confidence: options.wordConfidence ? w.probability : 0,
              speakerLabel: w.speaker ?? "",
            }))
          : [],
      },
      ...runnerUpAlternatives(result.alternatives),
    ],
    isFinal: result.isFinal,
    stability: result.isFinal ? 0 : result.stability,
    channelTag: result.channel,
    resultEndOffset: durationOf(result.endSeconds),
    languageCode: facts().languageCode,
  };
  return {
    resultIndex: BigInt(output.index),
    results: [streamingResult],
    ...(result.isFinal ? { metadata: metadataOf(facts(), requestId) } : {}),
  };
}
