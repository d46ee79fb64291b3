// Where the whisper model's file comes from: the file picked in <weightsDir>/whisper/, the hint
// that says how to install one, and the one-time download of a missing file from the public hub.
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

/** Files looked for in <weightsDir>/whisper/, best first, when none is named. */
export const PREFERRED_MODEL_FILES = [
  "ggml-large-v3-turbo.bin",
  "ggml-large-v3-turbo-q8_0.bin",
  "ggml-large-v3-turbo-q5_0.bin",
  "ggml-large-v3.bin",
  "ggml-large-v3-q5_0.bin",
  "ggml-medium.bin",
  "ggml-small.bin",
  "ggml-base.bin",
  "ggml-tiny.bin",
];
export const DEFAULT_MODEL_FILE = "ggml-large-v3-turbo.bin";
export const DEFAULT_DOWNLOAD_BASE = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/";

/** How to install a model file into `dir`: the not-ready reason ends with it. */
export function installHint(dir: string, file = DEFAULT_MODEL_FILE): string {
  return (
    `put a whisper.cpp model file (ggml-*.bin) in ${dir}, e.g. ` +
    `\`mkdir -p ${dir} && curl -fL -o ${join(dir, file)} ${DEFAULT_DOWNLOAD_BASE}${file}\` ` +
    `(1.6 GB; ggml-large-v3-turbo-q5_0.bin is 0.55 GB, ggml-small.bin 0.47 GB), ` +
    `or set WHISPER_MODEL_FILE to such a file, or set WHISPER_DOWNLOAD=1 to fetch ${file} there at start`
  );
}

/** A regular file is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The model file to use, or null with the directory searched. */
export async function findModelFile(dir: string, named: string): Promise<string | null> {
  if (named) return isAbsolute(named) ? named : join(dir, named);
  for (const f of PREFERRED_MODEL_FILES) if (await exists(join(dir, f))) return join(dir, f);
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((f) => /^ggml-.*\.bin$/.test(f)).sort();
  } catch {
    return null;
  }
  for (const f of names) if (await exists(join(dir, f))) return join(dir, f);
  return null;
}

export interface ModelDownload {
  url: string;
  /** The directory made first when it is missing. */
  dir: string;
  /** Where the file goes; it is written to `<file>.partial` first and renamed once complete. */
  file: string;
  /** How long to wait for the response headers, and for each chunk after. */
  timeoutMs: number;
  /** Called with the bytes of each chunk and the response's content length (0 when unknown). */
  onProgress(bytes: number, total: number): void;
  /** False once the download is no longer wanted (the model was unloaded meanwhile). */
  isWanted(): boolean;
}

/**
 * Fetches `url` into `file`. Resolves true when the file is in place, false when it was no longer
 * wanted by the time it arrived (nothing is left behind); rejects when the download failed.
 */
export async function downloadModelFile(download: ModelDownload): Promise<boolean> {
  const { url, file, timeoutMs } = download;
  const partial = `${file}.partial`;
  const controller = new AbortController();
  let stall: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(stall);
    stall = setTimeout(() => controller.abort(new Error(`no data for ${timeoutMs} ms`)), timeoutMs);
  };
  try {
    await mkdir(download.dir, { recursive: true });
    arm();
    const res = await fetch(url, { signal: controller.signal, redirect: "follow" });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get("content-length") ?? 0);
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => {
      arm();
      download.onProgress(chunk.length, total);
    });
    await pipeline(body, createWriteStream(partial));
    clearTimeout(stall);
    if (!download.isWanted()) {
      await rm(partial, { force: true });
      return false;
    }
    await rename(partial, file);
    return true;
  } catch (err) {
    clearTimeout(stall);
    // swallowed: removing a partial download after a failure that is rethrown.
    await rm(partial, { force: true }).catch(() => {});
    throw err;
  }
}
