// Audio in: turns what a client sends (LINEAR16, MULAW, ALAW, FLAC, OGG_OPUS; 8–48 kHz; 1–8 channels) into
// what the speech models take: one Float32Array per channel, 16 kHz, in [-1, 1].
//
// - `createStreamDecoder` for live streams: push chunks split anywhere (20 ms frames, half a FLAC frame, an
//   odd byte of 16-bit PCM), get back the audio decoded so far. Decoding is deterministic and chunking-blind:
//   the concatenated output of any split equals `decodeAudio` on the whole.
// - `decodeAudio` for Recognize and batch work: the whole buffer at once.
// - Every problem with the audio or with the config describing it is an `AudioFormatError` (INVALID_ARGUMENT)
//   whose `field` names the proto field at fault.
//
// Inside: `encodings.ts` is the table of encodings and their checks; `sources.ts` decodes bytes at the stream's
// own rate (G.711 tables in `g711.ts`; FLAC and Ogg/Opus by eshaz's WASM decoders, `@wasm-audio-decoders/flac`
// and `ogg-opus-decoder`); `resampler.ts` converts each channel to 16 kHz (`rates.ts`) through an anti-alias
// low-pass. Output sample n of a channel is at stream time n / 16000 s. Ogg/Opus audio is released a whole Ogg
// page at a time; everything else as soon as a whole sample frame is in.

import { createSourceDecoder, validateFormat } from "./encodings.js";
import { AudioFormatError, DEFAULT_MAX_CHUNK_BYTES, type AudioField, type AudioFormat } from "./format.js";
import { MODEL_SAMPLE_RATE } from "./rates.js";
import { Resampler } from "./resampler.js";
import type { DecodedBlock, SourceDecoder } from "./sources.js";

export { AUDIO_ENCODINGS, audioEncodingList, audioEncodingNames, headerFormatEncodings, isAudioEncoding, type AudioEncoding, type AudioEncodingSpec } from "./encodings.js";
export { MODEL_SAMPLE_RATE } from "./rates.js";
export { AudioFormatError, Resampler };
export type { AudioField, AudioFormat };

export interface StreamDecoder {
  /** Feeds encoded bytes (any chunking, e.g. 20 ms frames, or an odd split of a FLAC/Ogg page); returns the newly decoded audio: one Float32Array per channel, 16 kHz, in [-1, 1]. Arrays may be empty. */
  push(chunk: Uint8Array): Promise<Float32Array[]>;
  /**
   * `push` without a promise, where the chunk can be decoded at once (a raw encoding, no call still
   * queued): the audio, or undefined when only `push` can take the chunk. Throws what `push` would
   * reject with. A live stream pushes 50 chunks a second, and each promise saved is CPU per stream.
   */
  pushNow?(chunk: Uint8Array): Float32Array[] | undefined;
  /** End of input: flushes decoder and resampler tails. */
  end(): Promise<Float32Array[]>;
  /** Frees native/wasm resources; idempotent. */
  close(): void;
}

export interface StreamDecoderOptions {
  /** Largest chunk `push` accepts; default 1 MiB, the limit on a streaming request's `audio_content`. */
  maxChunkBytes?: number;
}

/**
 * Validates the format (encoding known; rate 8000..48000; channels 1..8, 0 meaning 1 for the raw encodings; for
 * FLAC/OGG_OPUS the rate/channels declared may be 0 = take from the stream) and returns a decoder.
 * Throws AudioFormatError.
 */
export function createStreamDecoder(format: AudioFormat, options: StreamDecoderOptions = {}): StreamDecoder {
  return new AudioStreamDecoder(validateFormat(format), options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES);
}

/** Decodes a whole buffer at once (Recognize, batch). The caller bounds its size. */
export async function decodeAudio(format: AudioFormat, bytes: Uint8Array): Promise<Float32Array[]> {
  const decoder = createStreamDecoder(format, { maxChunkBytes: Number.POSITIVE_INFINITY });
  try {
    const head = await decoder.push(bytes);
    const tail = await decoder.end();
    return tail.map((channel, c) => concatFloat(head[c], channel));
  } finally {
    decoder.close();
  }
}

function concatFloat(a: Float32Array | undefined, b: Float32Array): Float32Array {
  if (!a || a.length === 0) return b;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

class AudioStreamDecoder implements StreamDecoder {
  private readonly source: SourceDecoder;
  private resamplers: Resampler[] | undefined;
  /** Calls run one after another even if the caller does not await; the first failure fails every later call. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls queued in `queue` and not finished. */
  private queued = 0;
  private failure: unknown;
  private ended = false;
  private closed = false;

  constructor(
    format: AudioFormat,
    private readonly maxChunkBytes: number,
  ) {
    this.source = createSourceDecoder(format);
  }

  push(chunk: Uint8Array): Promise<Float32Array[]> {
    // A decoder that never waits (the raw encodings), with no call queued before this one, decodes at
    // once: one promise per 20 ms frame instead of a chain of them.
    if (this.queued === 0 && this.source.decodeNow) {
      try {
        return Promise.resolve(this.pushNow(chunk)!);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.serialise(async () => {
      this.check(chunk);
      return this.resample(await this.source.decode(chunk));
    });
  }

  pushNow(chunk: Uint8Array): Float32Array[] | undefined {
    if (this.queued !== 0 || !this.source.decodeNow) return undefined;
    try {
      this.check(chunk);
      return this.resample(this.source.decodeNow(chunk));
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
  }

  private check(chunk: Uint8Array): void {
    if (this.closed) throw new Error("StreamDecoder used after close()");
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) throw new Error("StreamDecoder.push after end()");
    if (chunk.byteLength > this.maxChunkBytes) {
      throw new AudioFormatError("audio_content", `chunk of ${chunk.byteLength} bytes is over the limit of ${this.maxChunkBytes}`);
    }
  }

  end(): Promise<Float32Array[]> {
    return this.serialise(async () => {
      if (this.ended) throw new Error("StreamDecoder.end called twice");
      this.ended = true;
      const last = this.resample(await this.source.flush());
      const tails = this.resamplers?.map((r) => r.flush()) ?? this.emptyOutput();
      return last.length === 0 ? tails : last.map((channel, c) => concatFloat(channel, tails[c]!));
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.free();
  }

  private serialise(work: () => Promise<Float32Array[]>): Promise<Float32Array[]> {
    this.queued++;
    const run = this.queue.then(async () => {
      try {
        if (this.closed) throw new Error("StreamDecoder used after close()");
        if (this.failure !== undefined) throw this.failure;
        return await work();
      } catch (error) {
        this.failure ??= error;
        throw error;
      } finally {
        this.queued--;
      }
    });
    // swallowed: the queue only orders calls; `run` itself rejects to its caller, and the failure is kept for later calls.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private resample(block: DecodedBlock | undefined): Float32Array[] {
    if (!block) return this.emptyOutput();
    this.resamplers ??= block.channels.map(() => new Resampler(block.sampleRate, MODEL_SAMPLE_RATE));
    if (this.resamplers[0]!.inRate !== block.sampleRate || this.resamplers.length !== block.channels.length) {
      throw new AudioFormatError("audio_content", "the stream changed its sample rate or channel count mid-stream");
    }
    return block.channels.map((channel, c) => this.resamplers![c]!.process(channel));
  }

  private emptyOutput(): Float32Array[] {
    return Array.from({ length: this.source.channelCount ?? 0 }, () => new Float32Array(0));
  }
}
