// Stage 1: what a media file is, as ffprobe reads it. Everything later trusts these numbers (the
// channel count de-interleaves the decoded PCM, the duration drives progress), so a file that is
// not audio, holds no samples, or ends before its own header says it should is refused here with
// the reason, instead of failing half way through a job.
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { z } from "zod";
import { InvalidArgumentError } from "../platform/errors/errors.js";

export interface MediaProbe {
  /** Seconds of audio in the chosen stream (the container's duration when the stream has none). */
  durationSeconds: number;
  /** ffmpeg's name of the audio codec ("pcm_mulaw", "mp3", "opus", "flac", ...). */
  codec: string;
  channels: number;
  /** Samples per second of the audio stream as stored (before any resampling). */
  sampleRate: number;
  /** ffmpeg's name of the container ("wav", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", ...). */
  formatName: string;
  /** Index of the audio stream the pipeline decodes (the first one), for `-map 0:<index>`. */
  streamIndex: number;
  /** True when the file also holds video; only its audio is transcribed. */
  hasVideo: boolean;
}

/** Why a file is refused; `reason` is safe to show the uploader. */
export type UnusableMediaReason = "empty" | "not_media" | "no_audio" | "corrupt" | "truncated" | "no_duration";

/** The file cannot be transcribed: the message says why, in words the uploader can act on. */
export class UnusableMediaError extends InvalidArgumentError {
  constructor(
    readonly reason: UnusableMediaReason,
    detail: string,
  ) {
    super("media", detail);
  }
}

/**
 * Headerless PCM, which cannot say what it is: what the bytes are, from the uploader's content type or the
 * job's encoding hint. `format` is the name of ffmpeg's raw demuxer.
 */
export interface RawAudio {
  format: "s16le" | "mulaw" | "alaw";
  sampleRate: number;
  channels: number;
}

/** ffmpeg's names of the raw demuxers, as a probe reports them in `formatName`. */
export const RAW_FORMATS: readonly string[] = ["s16le", "mulaw", "alaw"];

/** The options that come before the input for headerless bytes (none for a file with a header). */
export function rawInputArgs(raw: RawAudio | undefined): string[] {
  return raw ? ["-f", raw.format, "-sample_rate", String(raw.sampleRate), "-ch_layout", `${raw.channels}c`] : [];
}

export interface ProbeOptions {
  /** Read the file as this headerless PCM instead of detecting its format. */
  raw?: RawAudio;
  /** Kills ffprobe; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** ffprobe executable. Default "ffprobe" on PATH. */
  ffprobePath?: string;
}

const streamSchema = z.object({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  channels: z.number().optional(),
  sample_rate: z.string().optional(),
  duration: z.string().optional(),
  disposition: z.object({ attached_pic: z.number().optional() }).partial().optional(),
});
const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({ format_name: z.string(), duration: z.string().optional() }).optional(),
});

// ffprobe exits 0 on files that end early and only warns. These are the demuxers' warnings for
// data that stops before the header or the bitstream says it should (tried on truncated WAV, FLAC,
// Ogg/Opus and MP3); anything else ffprobe warns about (e.g. "Estimating duration from bitrate" for
// an MP3 without a Xing header) is ordinary in real uploads and is not a reason to refuse them.
const truncationWarnings: readonly [RegExp, string][] = [
  [/End of file/i, "the file ends before its audio does (truncated upload?)"],
  [/filesize and duration do not match/i, "the file is shorter than its header says (truncated upload?)"],
  [/Packet corrupt|corrupt input packet|Truncated/i, "the last audio packet is cut off (truncated upload?)"],
];

/** Reads `file` with ffprobe and returns its audio stream's facts, or throws UnusableMediaError. */
export async function probeMedia(file: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  const size = (await stat(file)).size;
  if (size === 0) throw new UnusableMediaError("empty", "the file is empty (0 bytes)");

  const { code, stdout, stderr } = await runFfprobe(options.ffprobePath ?? "ffprobe", file, options.signal, options.raw);
  if (code !== 0) {
    const why = lastLine(stderr, file);
    if (/moov atom not found/i.test(stderr)) {
      throw new UnusableMediaError("truncated", "the MP4/MOV index (moov atom not found) is missing: the upload was cut off, or the recording never finalised");
    }
    for (const [pattern, reason] of truncationWarnings) {
      if (pattern.test(stderr)) throw new UnusableMediaError("truncated", `${reason}: ${why}`);
    }
    if (/Invalid data found|could not find codec parameters/i.test(stderr)) {
      throw new UnusableMediaError("not_media", `not a readable audio or video file (${why})`);
    }
    throw new UnusableMediaError("corrupt", `ffprobe could not read the file (${why || `exit code ${code}`})`);
  }

  let parsed: z.infer<typeof probeSchema>;
  try {
    parsed = probeSchema.parse(JSON.parse(stdout));
  } catch (err) {
    throw new Error(`ffprobe printed output the pipeline cannot read: ${(err as Error).message}`);
  }
  if (!parsed.format) throw new UnusableMediaError("not_media", "not a readable audio or video file");
  const audio = parsed.streams.find((s) => s.codec_type === "audio");
  if (!audio) {
    const kinds = [...new Set(parsed.streams.map((s) => s.codec_type ?? "unknown"))];
    throw new UnusableMediaError(
      "no_audio",
      kinds.length === 0 ? `the ${parsed.format.format_name} file holds no streams` : `the file holds no audio stream (only ${kinds.join(", ")})`,
    );
  }
  for (const [pattern, reason] of truncationWarnings) {
    if (pattern.test(stderr)) throw new UnusableMediaError("truncated", `${reason}: ${lastLine(stderr, file)}`);
  }
  const channels = audio.channels ?? 0;
  const sampleRate = Number(audio.sample_rate ?? 0);
  if (!audio.codec_name || channels <= 0 || !(sampleRate > 0)) {
    throw new UnusableMediaError("corrupt", "the audio stream has no codec, channel count or sample rate ffmpeg can read");
  }
  const durationSeconds = Number(audio.duration ?? parsed.format.duration ?? NaN);
  if (!Number.isFinite(durationSeconds)) throw new UnusableMediaError("no_duration", "the audio's duration cannot be determined");
  if (durationSeconds <= 0) throw new UnusableMediaError("empty", "the audio stream holds no samples (duration 0)");

  return {
    durationSeconds,
    codec: audio.codec_name,
    channels,
    sampleRate,
    formatName: parsed.format.format_name,
    streamIndex: audio.index,
    hasVideo: parsed.streams.some((s) => s.codec_type === "video" && !s.disposition?.attached_pic),
  };
}

/**
 * The path as an ffmpeg URL with the file protocol spelled out, so that a name which starts with
 * "-" or looks like another protocol ("http:", "concat:") is still read as a local file.
 */
export function inputUrl(file: string): string {
  return `file:${file}`;
}

function runFfprobe(ffprobe: string, file: string, signal?: AbortSignal, raw?: RawAudio): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    // -v warning: warnings on stderr are how a truncated file shows itself (see truncationWarnings).
    const child = spawn(ffprobe, ["-v", "warning", "-hide_banner", "-print_format", "json", "-show_format", "-show_streams", ...rawInputArgs(raw), inputUrl(file)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      // Bounded: a corrupt file can make a demuxer warn once per packet.
      err = (err + chunk.toString("utf8")).slice(-16_384);
    });
    const abort = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", abort, { once: true });
    child.on("error", (e) => {
      signal?.removeEventListener("abort", abort);
      reject(
        (e as NodeJS.ErrnoException).code === "ENOENT" ? new Error(`${ffprobe} is not installed (apt-get install ffmpeg)`) : e,
      );
    });
    child.on("close", (code) => {
      signal?.removeEventListener("abort", abort);
      if (signal?.aborted) return reject(signal.reason);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: err });
    });
  });
}

/**
 * The last non-empty stderr line without ffmpeg's "[demuxer @ 0x...]" prefix or the "path: " that
 * starts ffprobe's own errors: the server's path is not the uploader's business.
 */
function lastLine(stderr: string, file: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/^\[[^\]]*\]\s*/, "").trim())
    .map((l) => (l.startsWith(`${inputUrl(file)}: `) ? l.slice(inputUrl(file).length + 2) : l))
    .filter((l) => l !== "");
  return lines[lines.length - 1] ?? "";
}
