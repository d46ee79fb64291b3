// The encodings a client may declare for audio it sends (RecognitionConfig.encoding, less AUTO,
// which only the batch path's ffmpeg reads), and what each one is: its decoder, its name in
// messages, and whether its header carries the rate and channel count. The one table the
// decoders, the format checks, live recognition and the proto mapping read.

import { alawTable, mulawTable } from "./g711.js";
import { AudioFormatError, MAX_CHANNELS, type AudioEncoding, type AudioFormat } from "./format.js";

export type { AudioEncoding } from "./format.js";
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from "./rates.js";
import { FlacDecoder, G711Decoder, Linear16Decoder, OggOpusStreamDecoder, type SourceDecoder } from "./sources.js";

export interface AudioEncodingSpec {
  /** The encoding as messages name it. */
  name: string;
  /**
   * True when the stream starts with a header that carries its rate and channel count (FLAC,
   * Ogg/Opus): a declared 0 then means "the header's". Raw samples carry neither.
   */
  headerCarriesFormat: boolean;
  /** Bytes of one sample of one channel for raw samples; 0 for the compressed encodings. */
  bytesPerSample: number;
  /** A decoder of this encoding's bytes to samples at the stream's own rate. */
  decoder(format: AudioFormat, name: string): SourceDecoder;
}

/** Keyed by the encoding's name, the proto enum value's name without its AUDIO_ENCODING_ prefix. */
export const AUDIO_ENCODINGS = {
  LINEAR16: { name: "16-bit PCM", headerCarriesFormat: false, bytesPerSample: 2, decoder: (format) => new Linear16Decoder(format) },
  MULAW: { name: "G.711 μ-law", headerCarriesFormat: false, bytesPerSample: 1, decoder: (format) => new G711Decoder(format, mulawTable()) },
  ALAW: { name: "G.711 A-law", headerCarriesFormat: false, bytesPerSample: 1, decoder: (format) => new G711Decoder(format, alawTable()) },
  FLAC: { name: "FLAC", headerCarriesFormat: true, bytesPerSample: 0, decoder: (format, name) => new FlacDecoder(format, name) },
  OGG_OPUS: { name: "Ogg/Opus", headerCarriesFormat: true, bytesPerSample: 0, decoder: (format, name) => new OggOpusStreamDecoder(format, name) },
} satisfies Record<AudioEncoding, AudioEncodingSpec>;

/** The encodings, in the proto's order. */
export const audioEncodingNames = Object.keys(AUDIO_ENCODINGS) as AudioEncoding[];

/** The encodings whose header carries the rate and channel count ("FLAC", "OGG_OPUS"). */
export const headerFormatEncodings = audioEncodingNames.filter((encoding) => AUDIO_ENCODINGS[encoding].headerCarriesFormat);

export function isAudioEncoding(name: string): name is AudioEncoding {
  return Object.hasOwn(AUDIO_ENCODINGS, name);
}

/** "LINEAR16, MULAW, ALAW, FLAC or OGG_OPUS", for messages. */
export function audioEncodingList(): string {
  return `${audioEncodingNames.slice(0, -1).join(", ")} or ${audioEncodingNames.at(-1)}`;
}

/**
 * Checks a declared format and fills in what recognition.proto says 0 means: one channel for the raw encodings;
 * for the encodings whose header carries the format, 0 stays 0 ("whatever the header says").
 */
export function validateFormat(format: AudioFormat): AudioFormat {
  const { encoding, sampleRateHertz: rate, channels } = format;
  if (!isAudioEncoding(encoding)) {
    throw new AudioFormatError("config.encoding", `unsupported encoding ${JSON.stringify(encoding)}; use one of ${audioEncodingNames.join(", ")}`);
  }
  const fromHeader = AUDIO_ENCODINGS[encoding].headerCarriesFormat;
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

/** The decoder of a validated format. */
export function createSourceDecoder(format: AudioFormat): SourceDecoder {
  const spec: AudioEncodingSpec = AUDIO_ENCODINGS[format.encoding];
  return spec.decoder(format, spec.name);
}
