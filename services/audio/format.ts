// What the client says its audio is, and the one error type every bad input turns into.

import { InvalidArgumentError } from "../platform/errors/errors.js";

export const AUDIO_ENCODINGS = ["LINEAR16", "MULAW", "ALAW", "FLAC", "OGG_OPUS"] as const;
export type AudioEncoding = (typeof AUDIO_ENCODINGS)[number];

/** As declared in the RecognitionConfig. For FLAC and OGG_OPUS, 0 means "take it from the stream's header". */
export interface AudioFormat {
  encoding: AudioEncoding;
  sampleRateHertz: number;
  channels: number;
}

/** The rate every decoder delivers, the speech models' rate. */
export const TARGET_SAMPLE_RATE = 16000;
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;
export const MAX_CHANNELS = 8;
/** A streaming request's `audio_content` is at most 1 MiB (speech.proto). */
export const DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024;

/** The proto field at fault, as the client wrote it. */
export type AudioField = "config.encoding" | "config.sample_rate_hz" | "config.audio_channel_count" | "audio_content";

/** Bad audio or a config that does not describe it. Maps to INVALID_ARGUMENT. */
export class AudioFormatError extends InvalidArgumentError {
  declare readonly field: AudioField;
  constructor(field: AudioField, reason: string) {
    super(field, reason);
    this.name = "AudioFormatError";
  }
}

export function isContainerEncoding(encoding: AudioEncoding): encoding is "FLAC" | "OGG_OPUS" {
  return encoding === "FLAC" || encoding === "OGG_OPUS";
}

/**
 * Checks a declared format and fills in what recognition.proto says 0 means: one channel for the raw encodings;
 * for FLAC and OGG_OPUS, 0 stays 0 ("whatever the header says").
 */
export function validateFormat(format: AudioFormat): AudioFormat {
  const { encoding, sampleRateHertz: rate, channels } = format;
  if (!(AUDIO_ENCODINGS as readonly string[]).includes(encoding)) {
    throw new AudioFormatError("config.encoding", `unsupported encoding ${JSON.stringify(encoding)}; use one of ${AUDIO_ENCODINGS.join(", ")}`);
  }
  const fromHeader = isContainerEncoding(encoding);
  const rateOk = Number.isInteger(rate) && ((rate >= MIN_SAMPLE_RATE && rate <= MAX_SAMPLE_RATE) || (fromHeader && rate === 0));
  if (!rateOk) {
    throw new AudioFormatError(
      "config.sample_rate_hz",
      fromHeader
        ? `${rate} Hz is not supported; use ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}, or 0 to read it from the header`
        : `${rate} Hz is not supported; ${encoding} needs a rate from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`,
    );
  }
  if (!Number.isInteger(channels) || channels < 0 || channels > MAX_CHANNELS) {
    throw new AudioFormatError("config.audio_channel_count", `${channels} channels is not supported; use 1 to ${MAX_CHANNELS}`);
  }
  return { encoding, sampleRateHertz: rate, channels: channels === 0 && !fromHeader ? 1 : channels };
}
