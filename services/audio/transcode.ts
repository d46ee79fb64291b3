// Any audio ffmpeg reads (MP3, AAC/M4A, AMR, …) → 16 kHz 16-bit PCM, its channels kept: for whole
// files a request carries (Recognize, at most 10 MiB), in formats the streaming decoders do not read.
// The bytes go to a private temporary file (ffprobe and ffmpeg both read it; MP4 needs to seek to
// its index), which is removed whatever happens.
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

/** Throws UnusableMediaError (an InvalidArgumentError naming `media`) for bytes ffprobe cannot read as audio. */
export async function transcodeToPcm(bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<TranscodedAudio> {
  const dir = await mkdtemp(path.join(tmpdir(), "arabicstt-transcode-"));
  try {
    const file = path.join(dir, "input");
    await writeFile(file, bytes);
    const probe = await probeMedia(file, { signal: options.signal });
    const pcm = await runFfmpeg(
      ["-v", "error", "-nostdin", "-i", inputUrl(file), "-map", `0:${probe.streamIndex}`, "-vn", "-ac", String(probe.channels), "-ar", String(MODEL_SAMPLE_RATE), "-f", "s16le", "pipe:1"],
      options.signal,
    );
    return { pcm, sampleRateHertz: MODEL_SAMPLE_RATE, channels: probe.channels };
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
