// Stage 2: any file ffmpeg reads → 16 kHz FP32 PCM, one array per channel (or one mixed down from all of
// them), optionally denoised, loudness-normalised. Channels stay separate unless a mixdown is asked for
// (a stereo call is two speakers, diarized by channel).
//
// ffmpeg writes interleaved f32le to stdout; `decodeStream` reads it as an async iterable, so a
// slow consumer pauses ffmpeg through the pipe (backpressure from awaiting) and at most one pipe
// read is held beyond what the consumer keeps. `decodeAudio` keeps everything: 64 KB per second per
// channel (about 230 MB per hour per channel), which the plan's duration limit bounds.
//
// Progress is the samples read from stdout against the probed duration, not `-progress pipe:2`:
// stderr stays a plain log whose tail goes into errors, and counting what the consumer has
// actually received is the truer measure when backpressure holds ffmpeg back.
//
// Loudness: the file is measured while it is decoded (EBU R128 integrated loudness, in our own code over
// the 16 kHz samples as they come out of the pipe: services/audio/loudness.ts), then brought to −16 LUFS by
// ONE linear gain, lowered where needed so that the true peak stays under −1.5 dBTP. That is what matters
// for recognition: quiet and hot recordings land in the level range the VAD, the energy gate and the
// recognisers were tuned on (the same target and ceiling as the single-pass `loudnorm` this replaces), and
// the dynamics within the file are left exactly as recorded (loudnorm's dynamic mode rode the gain with a
// 3 s look-ahead). It also costs a fraction of loudnorm, which resamples to 192 kHz to measure: 85 % of the
// pipeline's own time on a telephone call (npm run bench:batch). A gain from the whole file cannot be
// applied before the file's end, so only `decodeAudio` normalises; `decodeStream` yields ffmpeg's samples.
// One gain for all channels keeps their relative levels (which channel is silent).
import { spawn, type ChildProcess } from "node:child_process";
import { audioFilters, type DenoiseOptions } from "../../audio/filters.js";
import { inputUrl, rawInputArgs, UnusableMediaError, type MediaProbe, type RawAudio } from "../../audio/probe.js";
import { MODEL_SAMPLE_RATE } from "../../audio/rates.js";
import { applyGain, LoudnessMeter, loudnessGain, type LoudnessGain, type LoudnessTarget } from "../../audio/loudness.js";

// The filter chain is shared with Recognize (services/audio/filters.ts); re-exported for the pipeline's callers.
export { audioFilters, type DenoiseOptions };

/** The rate every model takes. */
export const PIPELINE_SAMPLE_RATE = MODEL_SAMPLE_RATE;

/** Where `decodeAudio` brings a file's loudness: loudnorm's old defaults here (I=-16, TP=-1.5). */
export const LOUDNESS_TARGET: LoudnessTarget = { integratedLufs: -16, truePeakDbtp: -1.5 };

export interface DecodeOptions {
  /** What probeMedia found: which stream to decode, how many channels, how long (for progress). */
  probe: Pick<MediaProbe, "channels" | "streamIndex" | "durationSeconds">;
  /** Read the file as this headerless PCM (what the probe was told too). Default: its header says. */
  raw?: RawAudio;
  /** Denoise before normalising: true for `afftdn` alone, or which denoisers. Default none. */
  denoise?: boolean | DenoiseOptions;
  /**
   * Loudness normalisation to LOUDNESS_TARGET by one gain, measured during the decode. Default true.
   * `decodeAudio` only: a stream's samples leave before the file's loudness is known.
   */
  loudnorm?: boolean;
  /** Mix every channel down to one, their mean (recognition without separate channels). Default false. */
  mixdown?: boolean;
  /** Kills ffmpeg (SIGKILL); the decode then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Share of the file decoded so far, 0–1, from the samples written against the probed duration. */
  onProgress?: (fraction: number) => void;
  /** Called with ffmpeg's process id once it is spawned (tests check that abort ends it). */
  onSpawn?: (pid: number) => void;
  /** ffmpeg executable. Default "ffmpeg" on PATH. */
  ffmpegPath?: string;
}

/** Decoded audio: `channels[c][i]` is sample i of channel c, at `sampleRate`. */
export interface DecodedAudio {
  sampleRate: number;
  channels: Float32Array[];
  /** What the loudness normalisation measured and applied; absent when it was not asked for. */
  loudness?: LoudnessGain;
}

/** ffmpeg failed on a file that ffprobe accepted; `stderrTail` holds its last words. */
export class DecodeFailedError extends UnusableMediaError {
  constructor(
    detail: string,
    readonly stderrTail: string,
  ) {
    super("corrupt", detail);
  }
}

const STDERR_TAIL_BYTES = 4_096;

/** Channels the decode yields: the file's, or one when mixed down. */
export function decodedChannelCount(options: Pick<DecodeOptions, "probe" | "mixdown">): number {
  return options.mixdown ? 1 : options.probe.channels;
}

/** ffmpeg's arguments for a decode of `file` with these options. */
export function ffmpegDecodeArgs(file: string, options: DecodeOptions): string[] {
  const filters = audioFilters({ ...options, channels: options.probe.channels });
  return [
    ...["-nostdin", "-hide_banner", "-v", "error"],
    ...rawInputArgs(options.raw),
    ...["-i", inputUrl(file)],
    ...["-map", `0:${options.probe.streamIndex}`, "-vn", "-sn", "-dn"],
    ...(filters ? ["-af", filters] : []),
    // -ac with the probed count changes nothing in a well-formed file; it pins the count the
    // de-interleaving relies on should a stream change its layout part way through.
    ...["-ac", String(decodedChannelCount(options)), "-ar", String(PIPELINE_SAMPLE_RATE)],
    ...["-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"],
  ];
}

/**
 * Decodes `file` and yields blocks of PCM, one Float32Array per channel per block (equal lengths),
 * in order. Breaking out of the loop, or aborting, kills ffmpeg.
 */
export async function* decodeStream(file: string, options: DecodeOptions): AsyncGenerator<Float32Array[]> {
  options.signal?.throwIfAborted();
  const channelCount = decodedChannelCount(options);
  const frameBytes = 4 * channelCount;
  const ffmpeg = options.ffmpegPath ?? "ffmpeg";
  const child = spawn(ffmpeg, ffmpegDecodeArgs(file, options), { stdio: ["ignore", "pipe", "pipe"] });
  const exited = exitOf(child);
  let stderrTail = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  let pending = new Uint8Array(0);
  let samples = 0;
  const duration = options.probe.durationSeconds;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      // Join with the previous read's partial frame into a fresh (hence 4-byte aligned) buffer.
      const bytes = new Uint8Array(pending.length + chunk.length);
      bytes.set(pending);
      bytes.set(chunk, pending.length);
      const frames = Math.floor(bytes.length / frameBytes);
      pending = bytes.slice(frames * frameBytes);
      if (frames === 0) continue;
      // f32le read through a native Float32Array: every platform Node supports here is little-endian.
      const interleaved = new Float32Array(bytes.buffer, 0, frames * channelCount);
      const block = Array.from({ length: channelCount }, () => new Float32Array(frames));
      for (let i = 0, k = 0; i < frames; i++) for (let c = 0; c < channelCount; c++, k++) block[c]![i] = interleaved[k]!;
      samples += frames;
      if (duration > 0) options.onProgress?.(Math.min(1, samples / PIPELINE_SAMPLE_RATE / duration));
      yield block;
    }
    const { code, signal: killedBy, spawnError } = await exited;
    options.signal?.throwIfAborted();
    if (spawnError) {
      throw (spawnError as NodeJS.ErrnoException).code === "ENOENT" ? new Error(`${ffmpeg} is not installed (apt-get install ffmpeg)`) : spawnError;
    }
    if (code !== 0) {
      const tail = cleanTail(stderrTail, file);
      throw new DecodeFailedError(`ffmpeg could not decode the audio (${killedBy ? `killed by ${killedBy}` : `exit code ${code}`}): ${lastLines(tail) || "no message"}`, tail);
    }
    if (samples === 0) throw new DecodeFailedError("ffmpeg decoded no audio samples from the file", cleanTail(stderrTail, file));
    options.onProgress?.(1);
  } finally {
    options.signal?.removeEventListener("abort", kill);
    kill();
    await exited;
  }
}

/**
 * Decodes the whole file into memory: one 16 kHz Float32Array per channel (one in all when mixed down),
 * brought to LOUDNESS_TARGET unless `loudnorm` is false.
 */
export async function decodeAudio(file: string, options: DecodeOptions): Promise<DecodedAudio> {
  const channelCount = decodedChannelCount(options);
  const meter = (options.loudnorm ?? true) ? new LoudnessMeter(PIPELINE_SAMPLE_RATE, channelCount) : undefined;
  // Sized from the probed duration (plus slack for resampler and codec padding), grown by
  // doubling only if the header understated it, so a long file is not copied over and over.
  let capacity = Math.ceil((options.probe.durationSeconds + 1) * PIPELINE_SAMPLE_RATE);
  let channels = Array.from({ length: channelCount }, () => new Float32Array(capacity));
  let length = 0;
  for await (const block of decodeStream(file, options)) {
    const n = block[0]!.length;
    if (length + n > capacity) {
      capacity = Math.max(capacity * 2, length + n);
      channels = channels.map((old) => {
        const grown = new Float32Array(capacity);
        grown.set(old.subarray(0, length));
        return grown;
      });
    }
    block.forEach((samples, c) => channels[c]!.set(samples, length));
    length += n;
    // Measured as it arrives, while ffmpeg decodes the next block: the measurement needs no second pass.
    meter?.push(block);
  }
  // A view when the probed size was about right (the usual case: no copy of the whole file); a copy when
  // doubling left much more behind than the audio needs.
  const decoded = channels.map((c) => (capacity - length <= 2 * PIPELINE_SAMPLE_RATE ? c.subarray(0, length) : c.slice(0, length)));
  if (!meter) return { sampleRate: PIPELINE_SAMPLE_RATE, channels: decoded };
  const loudness = loudnessGain(meter, decoded, LOUDNESS_TARGET);
  applyGain(decoded, loudness.gain);
  return { sampleRate: PIPELINE_SAMPLE_RATE, channels: decoded, loudness };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }> {
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.once("error", (err) => {
      spawnError = err;
      // A process that never started emits no "close" on some Node versions.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError });
    });
    child.once("close", (code, signal) => resolve({ code, signal, spawnError }));
  });
}

/** ffmpeg's stderr without the input's path (the server's path is not the uploader's business). */
function cleanTail(stderr: string, file: string): string {
  return stderr.split(inputUrl(file)).join("<input>").split(file).join("<input>").trim();
}

/** ffmpeg's last few lines (a reason often spans two: what failed, then a hint), without "[demuxer @ 0x...]". */
function lastLines(text: string, count = 3): string {
  const lines = text.split("\n").map((l) => l.replace(/^\[[^\]]*\]\s*/, "").trim()).filter((l) => l !== "");
  return lines.slice(-count).join(" / ").slice(-400);
}
