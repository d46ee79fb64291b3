// What the client says its audio is, and the one error type every bad input turns into. The
// encodings themselves, and the checks of a declared format, are in encodings.ts.

import { InvalidArgumentError } from "../platform/errors/errors.js";

/**
 * The encodings a client may declare. What each one is (its decoder, its name, whether its header carries
 * the format) is the table in encodings.ts, which the compiler holds to exactly these names.
 */
export type AudioEncoding = "LINEAR16" | "MULAW" | "ALAW" | "FLAC" | "OGG_OPUS";

/** As declared in the RecognitionConfig. For FLAC and OGG_OPUS, 0 means "take it from the stream's header". */
export interface AudioFormat {
  encoding: AudioEncoding;
  sampleRateHertz: number;
  channels: number;
}

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
