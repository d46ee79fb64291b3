// Any audio ffmpeg reads (MP3, AAC/M4A, AMR, …) → 16 kHz 16-bit PCM, its channels kept: for whole
// files a request carries (Recognize, at most 10 MiB), in formats the streaming decoders do not read.
// The bytes go to a private temporary file (ffprobe and ffmpeg both read it; MP4 needs to seek to
// its index), which is removed whatever happens. Recognize also comes here to denoise (DENOISE_MODE_SPECTRAL,
// NEURAL): the filter chain (filters.ts) runs in the same ffmpeg pass, and headerless samples (LINEAR16, MULAW,
// ALAW as declared) are read by the format the request declared, since ffprobe cannot guess them.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inputUrl, probeMedia } from "./probe.js";
import { MODEL_SAMPLE_RATE } from "./rates.js";

export interface TranscodedAudio {
  /** Interleaved little-endian 16-bit PCM at MODEL_SAMPLE_RATE. */
  pcm: Uint8Array;
  sampleRateHertz: number;
  channels: number;
}

/** Headerless samples as a request declared them (validated: rate and channels set). */
export interface RawInput {
  encoding: "LINEAR16" | "MULAW" | "ALAW";
  sampleRateHertz: number;
  channels: number;
}

const RAW_DEMUXERS: Record<RawInput["encoding"], string> = { LINEAR16: "s16le", MULAW: "mulaw", ALAW: "alaw" };

export interface TranscodeOptions {
  signal?: AbortSignal;
  /** An ffmpeg `-af` chain (filters.ts#audioFilters) applied at the input's rate, before resampling; none by default. */
  filters?: string;
  /** Read the bytes as these raw samples instead of probing them. */
  raw?: RawInput;
  /**
   * Stop writing after this many seconds of audio. The caller still sees more than its own limit when it
   * passes one a little above it, so an overlong file is refused rather than cut; this only bounds the PCM
   * a small but long file (10 MiB of 8 kHz μ-law is 22 minutes) would otherwise expand to.
   */
  maxSeconds?: number;
}

/** Throws UnusableMediaError (an InvalidArgumentError naming `media`) for bytes ffprobe cannot read as audio. */
export async function transcodeToPcm(bytes: Uint8Array, options: TranscodeOptions = {}): Promise<TranscodedAudio> {
  const dir = await mkdtemp(path.join(tmpdir(), "arabicstt-transcode-"));
  try {
    const file = path.join(dir, "input");
    await writeFile(file, bytes);
    const { raw } = options;
    const input = raw
      ? { args: ["-f", RAW_DEMUXERS[raw.encoding], "-ar", String(raw.sampleRateHertz), "-ac", String(raw.channels), "-i", inputUrl(file)], channels: raw.channels }
      : await probeMedia(file, { signal: options.signal }).then((probe) => ({ args: ["-i", inputUrl(file), "-map", `0:${probe.streamIndex}`], channels: probe.channels }));
    const pcm = await runFfmpeg(
      [
        ...["-v", "error", "-nostdin", ...input.args, "-vn"],
        ...(options.filters ? ["-af", options.filters] : []),
        ...(options.maxSeconds !== undefined ? ["-t", String(options.maxSeconds)] : []),
        ...["-ac", String(input.channels), "-ar", String(MODEL_SAMPLE_RATE), "-f", "s16le", "pipe:1"],
      ],
      options.signal,
    );
    return { pcm, sampleRateHertz: MODEL_SAMPLE_RATE, channels: input.channels };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runFfmpeg(args: string[], signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const onAbort = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", reject);
    child.once("close", (code) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) return reject(signal.reason);
      if (code !== 0) return reject(new Error(`ffmpeg could not decode the audio: ${stderr.trim().split("\n").at(-1) ?? `exit code ${code}`}`));
      resolve(new Uint8Array(Buffer.concat(out)));
    });
  });
}
