// Decoders from the client's bytes to float samples at the stream's own rate, one per kind of
// encoding (encodings.ts says which encoding takes which). Each takes chunks split anywhere and
// keeps what it cannot decode yet for the next chunk.

import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { AudioFormatError, MAX_CHANNELS, type AudioFormat } from "./format.js";
import { MIN_SAMPLE_RATE } from "./rates.js";

/**
 * Samples per channel at `sampleRate`. The raw encodings' decoders reuse these arrays at their next
 * call (a live stream's frames are all one size): read them before decoding more.
 */
export interface DecodedBlock {
  channels: Float32Array[];
  sampleRate: number;
}

export interface SourceDecoder {
  /** Channel count once known (raw encodings: at once; FLAC/Ogg: once the header has arrived). */
  readonly channelCount: number | undefined;
  decode(chunk: Uint8Array): Promise<DecodedBlock | undefined>;
  /**
   * `decode` without a promise, for decoders that never wait (the raw encodings): a live stream calls
   * it 50 times a second per stream, and each promise saved there is CPU saved per stream.
   */
  readonly decodeNow?: (chunk: Uint8Array) => DecodedBlock | undefined;
  flush(): Promise<DecodedBlock | undefined>;
  free(): void;
}

const NO_BYTES = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

// ---------------------------------------------------------------------------------------------------------
// LINEAR16, MULAW, ALAW: fixed-size frames of interleaved samples.

/** The most bytes read looking for a WAV header's `data` chunk. */
const MAX_WAV_HEADER_BYTES = 64 * 1024;

abstract class InterleavedDecoder implements SourceDecoder {
  readonly channelCount: number;
  private carry: Uint8Array = NO_BYTES;

  constructor(
    protected readonly format: AudioFormat,
    private readonly bytesPerSample: number,
  ) {
    this.channelCount = format.channels;
  }

  /** Per channel, the array the last block was decoded into: reused while blocks keep their size. */
  private outputs: Float32Array[] = [];

  /**
   * Writes channel `channel` of `frames` whole frames of `bytes` to `out`. One loop per encoding
   * (rather than a shared loop calling a per-sample method) keeps each loop's reads monomorphic.
   */
  protected abstract deinterleave(bytes: Uint8Array, frames: number, channel: number, out: Float32Array): void;

  async decode(chunk: Uint8Array): Promise<DecodedBlock | undefined> {
    return this.decodeNow(chunk);
  }

  decodeNow(chunk: Uint8Array): DecodedBlock | undefined {
    return this.frames(chunk);
  }

  async flush(): Promise<DecodedBlock | undefined> {
    if (this.carry.length > 0) {
      throw new AudioFormatError(
        "audio_content",
        this.bytesPerSample === 2 && this.carry.length % 2 === 1
          ? "odd number of bytes for 16-bit audio: the stream ended inside a sample"
          : `the stream ended inside a frame: the byte count is not a multiple of ${this.channelCount} channels × ${this.bytesPerSample} bytes`,
      );
    }
    return undefined;
  }

  free(): void {}

  protected frames(chunk: Uint8Array): DecodedBlock | undefined {
    const bytes = concat(this.carry, chunk);
    const frameBytes = this.channelCount * this.bytesPerSample;
    const frames = Math.floor(bytes.length / frameBytes);
    this.carry = frames * frameBytes === bytes.length ? NO_BYTES : bytes.slice(frames * frameBytes);
    if (frames === 0) return undefined;
    // A 20 ms frame at a time, 50 times a second per stream: the arrays are reused, not allocated each time.
    if (this.outputs[0]?.length !== frames) this.outputs = Array.from({ length: this.channelCount }, () => new Float32Array(frames));
    for (let c = 0; c < this.channelCount; c++) this.deinterleave(bytes, frames, c, this.outputs[c]!);
    return { channels: this.outputs, sampleRate: this.format.sampleRateHertz };
  }
}

/** 16-bit little-endian PCM. A leading WAV header is read, checked against the config and skipped. */
export class Linear16Decoder extends InterleavedDecoder {
  private header: Uint8Array | undefined = new Uint8Array(0); // undefined once past any header

  constructor(format: AudioFormat) {
    super(format, 2);
  }

  protected deinterleave(bytes: Uint8Array, frames: number, channel: number, out: Float32Array): void {
    const stride = 2 * this.channelCount;
    for (let i = 0, offset = 2 * channel; i < frames; i++, offset += stride) {
      const value = bytes[offset]! | (bytes[offset + 1]! << 8);
      out[i] = (value >= 0x8000 ? value - 0x10000 : value) / 32768;
    }
  }

  override decodeNow(chunk: Uint8Array): DecodedBlock | undefined {
    if (!this.header) return this.frames(chunk);
    const bytes = concat(this.header, chunk);
    const mayBeRiff = ascii(bytes, 0, Math.min(4, bytes.length)) === "RIFF".slice(0, bytes.length);
    if (bytes.length < 12 && mayBeRiff) {
      this.header = bytes;
      return undefined;
    }
    if (!mayBeRiff || ascii(bytes, 8, 4) !== "WAVE") {
      this.header = undefined;
      return this.frames(bytes);
    }
    const dataStart = this.readWavHeader(bytes);
    if (dataStart === undefined) {
      if (bytes.length > MAX_WAV_HEADER_BYTES) {
        throw new AudioFormatError("audio_content", `no WAV data chunk within the first ${MAX_WAV_HEADER_BYTES} bytes`);
      }
      this.header = bytes;
      return undefined;
    }
    this.header = undefined;
    return this.frames(bytes.subarray(dataStart));
  }

  override async flush(): Promise<DecodedBlock | undefined> {
    if (this.header && this.header.length > 0) {
      // Fewer than 12 bytes in all, or a WAV header cut short.
      const bytes = this.header;
      this.header = undefined;
      if (bytes.length >= 12) throw new AudioFormatError("audio_content", "the stream ended inside its WAV header");
      const block = this.frames(bytes);
      await super.flush();
      return block;
    }
    return super.flush();
  }

  /** Returns the offset of the PCM data, or undefined if the header is not complete yet. */
  private readWavHeader(bytes: Uint8Array): number | undefined {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 12;
    let sawFormat = false;
    while (offset + 8 <= bytes.length) {
      const id = ascii(bytes, offset, 4);
      const size = view.getUint32(offset + 4, true);
      if (id === "data") {
        if (!sawFormat) throw new AudioFormatError("audio_content", "WAV data chunk before its fmt chunk");
        return offset + 8;
      }
      if (offset + 8 + size > bytes.length) return undefined;
      if (id === "fmt ") {
        this.checkWavFormat(view, offset + 8, size);
        sawFormat = true;
      }
      offset += 8 + size + (size % 2);
    }
    return undefined;
  }

  private checkWavFormat(view: DataView, at: number, size: number): void {
    if (size < 16) throw new AudioFormatError("audio_content", "WAV fmt chunk too short");
    const tag = view.getUint16(at, true);
    const channels = view.getUint16(at + 2, true);
    const rate = view.getUint32(at + 4, true);
    const bits = view.getUint16(at + 14, true);
    const WAVE_FORMAT_PCM = 1;
    const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
    const pcm = tag === WAVE_FORMAT_PCM || (tag === WAVE_FORMAT_EXTENSIBLE && size >= 26 && view.getUint16(at + 24, true) === WAVE_FORMAT_PCM);
    if (!pcm || bits !== 16) {
      throw new AudioFormatError("audio_content", `the WAV header says ${bits}-bit ${pcm ? "PCM" : `format ${tag}`}; LINEAR16 is 16-bit PCM`);
    }
    if (rate !== this.format.sampleRateHertz) {
      throw new AudioFormatError("config.sample_rate_hz", `${this.format.sampleRateHertz} Hz does not match the WAV header's ${rate} Hz`);
    }
    if (channels !== this.channelCount) {
      throw new AudioFormatError("config.audio_channel_count", `${this.channelCount} channels does not match the WAV header's ${channels}`);
    }
  }
}

/** G.711 bytes, expanded through `table` (g711.ts). */
export class G711Decoder extends InterleavedDecoder {
  constructor(
    format: AudioFormat,
    private readonly table: Float32Array,
  ) {
    super(format, 1);
  }

  protected deinterleave(bytes: Uint8Array, frames: number, channel: number, out: Float32Array): void {
    const table = this.table;
    const stride = this.channelCount;
    for (let i = 0, offset = channel; i < frames; i++, offset += stride) out[i] = table[bytes[offset]!]!;
  }
}

// ---------------------------------------------------------------------------------------------------------
// FLAC and Ogg/Opus: the header is checked here, the rest is decoded by eshaz's WASM decoders, which parse
// the stream incrementally (codec-parser) whatever the chunking. Ogg audio comes out a whole page at a time,
// so the latency of an Ogg/Opus stream is its page duration (browsers' recorders write pages of 20 ms to 1 s).

interface WasmDecoder {
  ready: Promise<void>;
  decode(bytes: Uint8Array): Promise<WasmResult> | WasmResult;
  flush(): Promise<WasmResult>;
  free(): void;
}
interface WasmResult {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

interface StreamHeader {
  channels: number;
  /** The rates a non-zero declared rate may have. */
  acceptedRates: number[];
}

abstract class ContainerDecoder implements SourceDecoder {
  channelCount: number | undefined;
  private head: Uint8Array | undefined = new Uint8Array(0); // bytes held until the header is complete
  private decoder: WasmDecoder | undefined;
  private decodedSamples = 0;
  private freed = false;

  constructor(
    protected readonly format: AudioFormat,
    /** The encoding as messages name it ("FLAC", "Ogg/Opus"). */
    protected readonly name: string,
  ) {}

  /** Parses the stream header from its first bytes; undefined while more bytes are needed. Throws on garbage. */
  protected abstract parseHeader(bytes: Uint8Array): StreamHeader | undefined;

  /** The channel count the stream's header declares, from its first bytes (undefined: not enough of them yet). */
  headerChannels(bytes: Uint8Array): number | undefined {
    return this.parseHeader(bytes)?.channels;
  }
  protected abstract newDecoder(): WasmDecoder;

  async decode(chunk: Uint8Array): Promise<DecodedBlock | undefined> {
    if (this.head) {
      const bytes = concat(this.head, chunk);
      const header = this.parseHeader(bytes);
      if (!header) {
        this.head = bytes;
        return undefined;
      }
      this.head = undefined;
      this.accept(header);
      const decoder = this.newDecoder();
      this.decoder = decoder;
      await decoder.ready;
      return this.result(await decoder.decode(bytes));
    }
    if (!this.decoder) return undefined;
    return this.result(await this.decoder.decode(chunk));
  }

  async flush(): Promise<DecodedBlock | undefined> {
    if (this.head) {
      if (this.head.length === 0) return undefined; // no audio at all
      throw new AudioFormatError("audio_content", `the stream ended inside its ${this.name} header`);
    }
    if (!this.decoder) return undefined;
    const block = this.result(await this.decoder.flush());
    if (this.decodedSamples === 0) throw new AudioFormatError("audio_content", `no decodable ${this.name} audio in the stream`);
    return block;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.decoder?.free();
  }

  /** Throws unless the bytes so far match the stream's magic prefix as far as they go. */
  protected expectMagic(bytes: Uint8Array, magic: string): void {
    if (ascii(bytes, 0, Math.min(bytes.length, magic.length)) !== magic.slice(0, bytes.length)) {
      throw new AudioFormatError("audio_content", `not a ${this.name} stream: it does not start with "${magic}"`);
    }
  }

  private accept(header: StreamHeader): void {
    if (header.channels < 1 || header.channels > MAX_CHANNELS) {
      throw new AudioFormatError("audio_content", `the ${this.name} stream has ${header.channels} channels; at most ${MAX_CHANNELS} are supported`);
    }
    const { sampleRateHertz: rate, channels } = this.format;
    if (rate !== 0 && !header.acceptedRates.includes(rate)) {
      throw new AudioFormatError("config.sample_rate_hz", `${rate} Hz does not match the ${this.name} header's ${header.acceptedRates[0]} Hz; send 0 to take the header's`);
    }
    if (channels !== 0 && channels !== header.channels) {
      throw new AudioFormatError("config.audio_channel_count", `${channels} channels does not match the ${this.name} header's ${header.channels}; send 0 to take the header's`);
    }
    this.channelCount = header.channels;
  }

  private result(result: WasmResult): DecodedBlock | undefined {
    const error = result.errors[0];
    if (error) throw new AudioFormatError("audio_content", `invalid ${this.name} data: ${error.message}`);
    if (result.samplesDecoded === 0) return undefined;
    if (result.channelData.length !== this.channelCount) {
      throw new AudioFormatError("audio_content", `the ${this.name} stream changed its channel count mid-stream`);
    }
    this.decodedSamples += result.samplesDecoded;
    // The decoders reuse their output memory between calls: copy.
    return { channels: result.channelData.map((c) => c.slice(0, result.samplesDecoded)), sampleRate: result.sampleRate };
  }
}

/** The highest rate a FLAC header may declare; anything from 8 kHz up is resampled to 16 kHz. */
const MAX_FLAC_SAMPLE_RATE = 192000;

export class FlacDecoder extends ContainerDecoder {
  protected parseHeader(bytes: Uint8Array): StreamHeader | undefined {
    this.expectMagic(bytes, "fLaC");
    // "fLaC", then the mandatory STREAMINFO metadata block: 4-byte block header, 34-byte body.
    if (bytes.length < 42) return undefined;
    if ((bytes[4]! & 0x7f) !== 0) throw new AudioFormatError("audio_content", "FLAC stream without STREAMINFO");
    const sampleRate = (bytes[18]! << 12) | (bytes[19]! << 4) | (bytes[20]! >> 4);
    const channels = ((bytes[20]! >> 1) & 0x07) + 1;
    if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_FLAC_SAMPLE_RATE) {
      throw new AudioFormatError("audio_content", `the FLAC stream's rate ${sampleRate} Hz is outside ${MIN_SAMPLE_RATE} to ${MAX_FLAC_SAMPLE_RATE} Hz`);
    }
    return { channels, acceptedRates: [sampleRate] };
  }

  protected newDecoder(): WasmDecoder {
    return new FLACDecoder();
  }
}

export class OggOpusStreamDecoder extends ContainerDecoder {
  protected parseHeader(bytes: Uint8Array): StreamHeader | undefined {
    this.expectMagic(bytes, "OggS");
    // Page header: 27 bytes, the segment table, then the first packet, which must be OpusHead (RFC 7845).
    if (bytes.length < 27) return undefined;
    const payload = 27 + bytes[26]!;
    if (bytes.length < payload + 19) return undefined;
    if (ascii(bytes, payload, 8) !== "OpusHead") {
      throw new AudioFormatError("audio_content", "the Ogg stream does not carry Opus (no OpusHead in its first page)");
    }
    const channels = bytes[payload + 9]!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const inputRate = view.getUint32(payload + 12, true);
    // Opus always decodes at 48 kHz; the header also records the rate the audio was captured at.
    return { channels, acceptedRates: inputRate ? [inputRate, 48000] : [48000] };
  }

  protected newDecoder(): WasmDecoder {
    return new OggOpusDecoder();
  }
}
