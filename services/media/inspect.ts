// Checking an upload's bytes: they are copied to a scratch file while being hashed (the one pass that
// proves size and SHA-256), then the copy is probed with ffprobe. CompleteUpload, UploadMedia and jobs
// reading media all go through here, so a file is judged the same way whichever way it came in.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { DomainError } from "../platform/errors/errors.js";
import { probeMedia, UnusableMediaError, type MediaProbe, type RawAudio, type UnusableMediaReason } from "../audio/probe.js";

/**
 * An upload the server refuses, for a reason that is the uploader's to fix: the item is marked FAILED with
 * `code`, and the uploader is told `message`, which starts with the field (or "media" for the file itself).
 */
export class MediaRejectedError extends DomainError {
  constructor(
    readonly kind: "invalid_argument" | "failed_precondition",
    /** Stable UPPER_SNAKE_CASE, as ProcessingError.code. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const codeOfReason: Record<UnusableMediaReason, string> = {
  empty: "EMPTY_MEDIA",
  not_media: "NOT_MEDIA",
  no_audio: "NO_AUDIO_STREAM",
  corrupt: "CORRUPT_MEDIA",
  truncated: "TRUNCATED_MEDIA",
  no_duration: "UNKNOWN_DURATION",
};

/** The codes whose failure is about the upload (what was declared, what arrived), not a verdict on the file. */
const PRECONDITION_CODES = new Set(["SIZE_MISMATCH", "CHECKSUM_MISMATCH", "UPLOAD_MISSING"]);

/** The error a FAILED item answers with again, rebuilt from what was stored. */
export function rejectionOf(code: string, message: string): MediaRejectedError {
  return new MediaRejectedError(PRECONDITION_CODES.has(code) ? "failed_precondition" : "invalid_argument", code, message);
}

export function sizeMismatch(field: string, stored: number, declared: number): MediaRejectedError {
  return new MediaRejectedError(
    "failed_precondition",
    "SIZE_MISMATCH",
    `${field}: the stored file is ${stored} bytes, not the ${declared} declared; upload the file again with CreateUpload`,
  );
}

export function checksumMismatch(field: string, stored: string, declared: string): MediaRejectedError {
  return new MediaRejectedError(
    "failed_precondition",
    "CHECKSUM_MISMATCH",
    `${field}: the stored file's SHA-256 is ${stored}, not the ${declared} declared; upload the file again with CreateUpload`,
  );
}

export type Verdict = { ok: true; probe: MediaProbe } | { ok: false; rejection: MediaRejectedError };

/**
 * Headerless telephone audio named by its content type: audio/basic (RFC 2046: 8 kHz mono μ-law), and RFC 3551's
 * audio/PCMU and audio/PCMA with optional `rate` and `channels` parameters (8000 and 1 by default). Hand-parsed:
 * two parameters of a handful of types, where a MIME library would add a dependency for no more. audio/L16 is
 * left out: it is big-endian (RFC 2586), which no encoding of the contract names.
 */
export function rawAudioOfContentType(contentType: string | null | undefined): RawAudio | undefined {
  const [type = "", ...params] = (contentType ?? "").split(";").map((p) => p.trim());
  const format = ({ "audio/basic": "mulaw", "audio/pcmu": "mulaw", "audio/pcma": "alaw" } as const)[type.toLowerCase() as "audio/basic"];
  if (!format) return undefined;
  const param = (name: string) => {
    const value = params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
    const n = Number(value);
    return value !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
  };
  // audio/basic is 8 kHz mono by definition; the RFC 3551 types say otherwise in their parameters.
  if (type.toLowerCase() === "audio/basic") return { format, sampleRate: 8000, channels: 1 };
  return { format, sampleRate: Math.min(param("rate") ?? 8000, 48_000), channels: Math.min(param("channels") ?? 1, 8) };
}

/**
 * Probes `file` and holds it to the duration limit; other failures (ffprobe missing, aborted) are thrown. A file
 * with no header that ffprobe can read is read as its content type says, when that names headerless audio
 * (rawAudioOfContentType); a header, where there is one, is the truer word.
 */
export async function judge(file: string, maxSeconds: number, signal?: AbortSignal, contentType?: string | null): Promise<Verdict> {
  let probe: MediaProbe;
  try {
    const raw = rawAudioOfContentType(contentType);
    probe = await probeMedia(file, { signal }).catch((err: unknown) => {
      if (raw && err instanceof UnusableMediaError && err.reason === "not_media") return probeMedia(file, { signal, raw });
      throw err;
    });
  } catch (err) {
    if (!(err instanceof UnusableMediaError)) throw err;
    return { ok: false, rejection: new MediaRejectedError("invalid_argument", codeOfReason[err.reason], err.message) };
  }
  if (probe.durationSeconds > maxSeconds) {
    return {
      ok: false,
      rejection: new MediaRejectedError(
        "invalid_argument",
        "AUDIO_TOO_LONG",
        `media: the audio lasts ${formatSeconds(probe.durationSeconds)}, longer than this server's limit of ${formatSeconds(maxSeconds)}`,
      ),
    };
  }
  return { ok: true, probe };
}

/** A file being written under the scratch folder, with the size and SHA-256 of what went in. */
export class Spool {
  private readonly hash = createHash("sha256");
  size = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(scratchDir: string): Promise<Spool> {
    await mkdir(scratchDir, { recursive: true });
    const path = join(scratchDir, `${randomUUID()}.media`);
    return new Spool(path, await open(path, "wx", 0o600));
  }

  /** Awaiting each write is the backpressure: a slow disk slows the sender instead of filling memory. */
  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    await this.handle.write(chunk);
  }

  /** Closes the file; its path stays valid until `remove`. */
  async finish(): Promise<{ size: number; sha256: string }> {
    await this.handle.close();
    return { size: this.size, sha256: this.hash.digest("hex") };
  }

  async remove(): Promise<void> {
    // swallowed: removing a scratch file whose handle may already be closed.
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/**
 * Copies a stored object into `spool`, stopping once it has more than `maxBytes` (the declared size: more
 * is already a mismatch) or when no byte has come for `idleMs`.
 */
export async function copyInto(
  spool: Spool,
  stream: Readable,
  options: { maxBytes: number; idleMs: number; signal?: AbortSignal },
): Promise<void> {
  let lastByte = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastByte > options.idleMs) stream.destroy(new Error(`the blob store sent nothing for ${options.idleMs} ms`));
  }, Math.max(10, Math.floor(options.idleMs / 4)));
  const abort = () => stream.destroy(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
  options.signal?.addEventListener("abort", abort, { once: true });
  try {
    options.signal?.throwIfAborted();
    for await (const chunk of stream) {
      lastByte = Date.now();
      await spool.write(chunk as Uint8Array);
      if (spool.size > options.maxBytes) break;
    }
  } finally {
    clearInterval(watchdog);
    options.signal?.removeEventListener("abort", abort);
    stream.destroy();
  }
}

/**
 * The source's items, failing with `onIdle()` when the next one takes longer than `idleMs`: every read from
 * the network has a bound, and a client that stops sending must not hold a stream (and a scratch file) open.
 */
export async function* idleLimited<T>(source: AsyncIterable<T>, idleMs: number, onIdle: () => Error): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onIdle()), idleMs);
      });
      let next: IteratorResult<T>;
      try {
        next = await Promise.race([iterator.next(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // Not awaited: after a timeout the source's own next() is still pending, and an async generator's
    // return() would wait behind it forever. Ending the RPC with the error is what stops the sender.
    // swallowed: see above: the pending return() may never settle, and its outcome changes nothing.
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

const CONTENT_TYPES: Record<string, [audio: string, video?: string]> = {
  wav: ["audio/wav"],
  mp3: ["audio/mpeg"],
  ogg: ["audio/ogg", "video/ogg"],
  flac: ["audio/flac"],
  aac: ["audio/aac"],
  amr: ["audio/amr"],
  au: ["audio/basic"],
  aiff: ["audio/aiff"],
  "mov,mp4,m4a,3gp,3g2,mj2": ["audio/mp4", "video/mp4"],
  "matroska,webm": ["audio/webm", "video/webm"],
  asf: ["audio/x-ms-wma", "video/x-ms-asf"],
  avi: ["video/x-msvideo", "video/x-msvideo"],
};

/** The MIME type of a probed file, for items uploaded without one. */
export function detectContentType(probe: MediaProbe): string {
  const types = CONTENT_TYPES[probe.formatName];
  if (!types) return "application/octet-stream";
  return probe.hasVideo ? (types[1] ?? types[0]) : types[0];
}

function formatSeconds(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", s || whole === 0 ? `${s} s` : ""].filter(Boolean).join(" ");
}
