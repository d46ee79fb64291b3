// What `arabicstt live` sends: the audio of a file or stdin, its format read from the WAV header (16-bit PCM,
// μ-law, A-law), a FLAC or Ogg/Opus stream passed through for the server to read, or raw samples described
// on the command line; then cut into chunks, paced at real time (as a microphone or a call delivers it) or
// sent as fast as flow control lets it.
import { AudioEncoding } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { UsageError } from "./errors.js";

/** The most bytes read looking for a WAV header's data chunk (the server's own bound). */
const MAX_HEADER_BYTES = 64 * 1024;
/** Audio in one request message when pacing at real time: 100 ms, a tenth of what the server waits for. */
const REALTIME_CHUNK_SECONDS = 0.1;
/** Bytes in one request message otherwise (the server takes up to 1 MiB). */
const FAST_CHUNK_BYTES = 64 * 1024;

export interface RawFormat {
  encoding: AudioEncoding;
  sampleRateHz: number;
  channels: number;
}

export interface LiveAudio extends RawFormat {
  /** Bytes of one frame (a sample of every channel) of raw audio; 0 for FLAC and Ogg/Opus. */
  frameBytes: number;
  /** The audio after its header (raw encodings) or the whole stream (FLAC, Ogg/Opus). */
  payload: AsyncIterable<Uint8Array>;
}

/** Encodings a user may name with --encoding for headerless input. */
export const RAW_ENCODINGS: Record<string, { encoding: AudioEncoding; bytesPerSample: number }> = {
  linear16: { encoding: AudioEncoding.LINEAR16, bytesPerSample: 2 },
  mulaw: { encoding: AudioEncoding.MULAW, bytesPerSample: 1 },
  alaw: { encoding: AudioEncoding.ALAW, bytesPerSample: 1 },
};

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Reads the start of `input` to learn its format. `raw` describes headerless input; a WAV, FLAC or Ogg
 * header wins over it.
 */
export async function openAudio(input: AsyncIterable<Uint8Array>, raw?: RawFormat): Promise<LiveAudio> {
  const iterator = input[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let ended = false;
  /** Reads until `head` holds `n` bytes or the input ends. */
  const fill = async (n: number) => {
    while (head.length < n && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else head = concat(head, next.value);
    }
  };
  const rest = (skip: number, limit = Infinity) => remaining(head.subarray(skip), iterator, ended, limit);

  await fill(12);
  const magic = ascii(head, 0, 4);
  if (magic === "RIFF" && ascii(head, 8, 4) === "WAVE") {
    let offset = 12;
    let format: (RawFormat & { frameBytes: number }) | undefined;
    for (;;) {
      await fill(offset + 8);
      if (head.length < offset + 8) throw new UsageError("the WAV file ends before its data chunk", "live");
      const id = ascii(head, offset, 4);
      const size = view(head).getUint32(offset + 4, true);
      if (id === "data") {
        if (!format) throw new UsageError("the WAV data chunk comes before its fmt chunk", "live");
        // Streams written to a pipe (sox, ffmpeg) cannot go back to write the size: 0 or 0xFFFFFFFF mean "to the end".
        const known = size !== 0 && size !== 0xffffffff;
        return { ...format, payload: rest(offset + 8, known ? size : Infinity) };
      }
      await fill(offset + 8 + size);
      if (offset + 8 + size > MAX_HEADER_BYTES) throw new UsageError(`no WAV data chunk within the first ${MAX_HEADER_BYTES} bytes`, "live");
      if (id === "fmt ") format = wavFormat(head, offset + 8, size);
      offset += 8 + size + (size % 2);
    }
  }
  if (magic === "fLaC") return { encoding: AudioEncoding.FLAC, sampleRateHz: 0, channels: 0, frameBytes: 0, payload: rest(0) };
  if (magic === "OggS") return { encoding: AudioEncoding.OGG_OPUS, sampleRateHz: 0, channels: 0, frameBytes: 0, payload: rest(0) };
  if (!raw) throw new UsageError("the input has no WAV, FLAC or Ogg header: describe raw audio with --encoding and --rate", "live");
  const spec = Object.values(RAW_ENCODINGS).find((e) => e.encoding === raw.encoding)!;
  return { ...raw, frameBytes: spec.bytesPerSample * raw.channels, payload: rest(0) };
}

function wavFormat(head: Uint8Array, at: number, size: number): RawFormat & { frameBytes: number } {
  if (size < 16) throw new UsageError("the WAV fmt chunk is too short", "live");
  const v = view(head);
  let tag = v.getUint16(at, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 26) tag = v.getUint16(at + 24, true);
  const channels = v.getUint16(at + 2, true);
  const sampleRateHz = v.getUint32(at + 4, true);
  const bits = v.getUint16(at + 14, true);
  const encoding =
    tag === WAVE_FORMAT_PCM && bits === 16 ? AudioEncoding.LINEAR16 : tag === WAVE_FORMAT_MULAW && bits === 8 ? AudioEncoding.MULAW : tag === WAVE_FORMAT_ALAW && bits === 8 ? AudioEncoding.ALAW : undefined;
  if (encoding === undefined) {
    throw new UsageError(`the WAV file is ${bits}-bit format ${tag}; live audio is 16-bit PCM, μ-law or A-law (convert with: sox IN -b 16 OUT.wav)`, "live");
  }
  return { encoding, sampleRateHz, channels, frameBytes: (bits / 8) * channels };
}

async function* remaining(first: Uint8Array, iterator: AsyncIterator<Uint8Array>, ended: boolean, limit: number): AsyncGenerator<Uint8Array> {
  let left = limit;
  if (first.length > 0) {
    const part = first.subarray(0, Math.min(first.length, left));
    left -= part.length;
    yield part;
  }
  while (!ended && left > 0) {
    const next = await iterator.next();
    if (next.done) return;
    const part = next.value.subarray(0, Math.min(next.value.length, left));
    left -= part.length;
    yield part;
  }
  // A WAV file's chunks after its data (LIST, id3) are not audio: stop reading there.
  await iterator.return?.();
}

/**
 * The payload in request-sized chunks, each a whole number of frames. At real time, a chunk is sent when
 * the audio before it has had time to play, so the server sees a live source; `signal` ends the stream early
 * (the server then sends the finals of what it heard).
 */
export async function* pace(audio: LiveAudio, realtime: boolean, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const bytesPerSecond = audio.frameBytes * audio.sampleRateHz;
  const paced = realtime && bytesPerSecond > 0;
  const frame = Math.max(1, audio.frameBytes);
  const chunkBytes = paced ? Math.max(frame, Math.floor((bytesPerSecond * REALTIME_CHUNK_SECONDS) / frame) * frame) : Math.floor(FAST_CHUNK_BYTES / frame) * frame;
  const started = Date.now();
  let sent = 0;
  let pending: Uint8Array = new Uint8Array(0);
  const wait = async () => {
    const due = started + (sent / bytesPerSecond) * 1000;
    const delay = due - Date.now();
    if (delay > 0) await sleep(delay, signal);
  };
  for await (const bytes of audio.payload) {
    if (signal.aborted) return;
    pending = concat(pending, bytes);
    while (pending.length >= chunkBytes) {
      const chunk = pending.subarray(0, chunkBytes);
      pending = pending.subarray(chunkBytes);
      if (paced) await wait();
      if (signal.aborted) return;
      yield chunk;
      sent += chunk.length;
    }
  }
  if (pending.length > 0 && !signal.aborted) {
    if (paced) await wait();
    yield pending;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
