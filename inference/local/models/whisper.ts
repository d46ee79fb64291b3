// The local sidecar's `whisper` model: Whisper on CPU through whisper.cpp (the smart-whisper
// binding, built from source at install), behind the ASR tensor contract of
// inference/models/whisper/config.pbtxt:
//
//   in   AUDIO      FP32  [-1]  16 kHz mono in [-1, 1] (a request carries [1, N] under batching)
//        LANGUAGE   BYTES [1]   optional: "ar", "ar-EG" (region dropped), "auto"/"" detects
//        TASK       BYTES [1]   optional: "transcribe" (default) | "translate" (to English)
//        PROMPT     BYTES [1]   optional: initial prompt (vocabulary, spelling, previous text)
//   out  TRANSCRIPT BYTES [1]   the text
//        SEGMENTS   BYTES [1]   JSON {"language","duration","segments":[{"start","end","text",
//                               "avg_logprob","no_speech_prob","words":[{"word","start","end",
//                               "probability"}]}]}, times in seconds from the start of AUDIO
//
// LANGUAGE/TASK/PROMPT may also come as request parameters (`language`, `task`, `prompt`);
// an input tensor wins over a parameter.
//
// Weights: a whisper.cpp model file (ggml-*.bin) in <weightsDir>/whisper/. The file is picked
// by WHISPER_MODEL_FILE (a path, or a name inside that directory), else the config parameter
// `model_file`, else the first present of PREFERRED_MODEL_FILES, else any ggml-*.bin there.
// With WHISPER_DOWNLOAD=1 (or config parameter `download: "true"`) a missing file is fetched
// once from the public hub (WHISPER_MODEL_URL, default the ggerganov/whisper.cpp repository on
// Hugging Face) into that directory. Without a usable file the model is not ready and its
// reason says exactly how to install one; infer() is never called then (the sidecar answers
// UNAVAILABLE).
//
// Each file is checked before whisper.cpp sees it (whisper-ggml.ts), and whisper.cpp runs in a
// child process (whisper-host.ts): a corrupt model, a native abort or a crash costs a restart
// of that child, never the sidecar. whisper.cpp runs one decode at a time per context, so
// requests are served in order from a bounded queue (RESOURCE_EXHAUSTED beyond it); each row
// of a batched request is one queued decode. An AbortSignal drops a queued request at once; a
// running decode is abandoned at once too, and its process is ended and reloaded when the
// decode's expected remaining time exceeds the cost of a reload (otherwise it finishes unseen).
import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import { isAbsolute, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "pino";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { DataType, type ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { ResourceExhaustedError, UnavailableError } from "../../../services/platform/errors/errors.js";
import { InferenceInputError, type InferParameters, type LocalModel, type ModelReadiness, type Tensor } from "../model.js";
import { asrItems, asrOutputs, type AsrResult, type AsrSegment, type AsrWord } from "./asr.js";
import type { HostReply, HostRequest, HostSegment } from "./whisper-host.js";
import {
  inspectWhisperGgml,
  WHISPER_LANGUAGES,
  WhisperModelFileError,
  type WhisperGgmlInfo,
} from "./whisper-ggml.js";

export const SAMPLE_RATE = 16000;

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

/** Tensor names of the contract; checked against config.pbtxt at creation. */
const CONTRACT = {
  inputs: { AUDIO: DataType.TYPE_FP32, LANGUAGE: DataType.TYPE_STRING, TASK: DataType.TYPE_STRING, PROMPT: DataType.TYPE_STRING },
  outputs: { TRANSCRIPT: DataType.TYPE_STRING, SEGMENTS: DataType.TYPE_STRING },
} as const;

export interface WhisperModelOptions {
  /** Model file: a path, or a file name inside <weightsDir>/whisper/. Env WHISPER_MODEL_FILE. */
  modelFile?: string;
  /** Fetch a missing file from the hub at load. Env WHISPER_DOWNLOAD=1. Default false. */
  download?: boolean;
  /** Where to fetch it. Env WHISPER_MODEL_URL. Default DEFAULT_DOWNLOAD_BASE + file name. */
  downloadUrl?: string;
  /** How long to wait for the hub's response headers, and for each chunk after. Default 15 s. */
  downloadTimeoutMs?: number;
  /** whisper.cpp threads per decode. Env WHISPER_THREADS. Default min(8, cores). */
  threads?: number;
  /** Beam size; 1 = greedy (best_of 5 on temperature fallback). Env WHISPER_BEAM_SIZE. Default 1. */
  beamSize?: number;
  /** Temperature step of the fallback on low log-probability / repetitive output (0 disables). Default 0.2. */
  temperatureIncrement?: number;
  /** Decodes that may wait behind the running one. Env WHISPER_MAX_QUEUE. Default 32. */
  maxQueue?: number;
  /** Longest AUDIO accepted, in seconds. Env WHISPER_MAX_AUDIO_SECONDS. Default 3600. */
  maxAudioSeconds?: number;
  /** Language when the request names none ("auto" detects). Config parameter `default_language`. */
  defaultLanguage?: string;
  /** How long a model may take to load. Default 300 s. */
  loadTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Options and the model file

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function configParam(config: ModelConfig, key: string): string | undefined {
  const v = config.parameters?.[key]?.stringValue;
  return v === undefined || v === "" ? undefined : v;
}

function resolveOptions(config: ModelConfig, options: WhisperModelOptions): Required<WhisperModelOptions> {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
  return {
    modelFile: options.modelFile ?? process.env.WHISPER_MODEL_FILE ?? configParam(config, "model_file") ?? "",
    download: options.download ?? (truthy(process.env.WHISPER_DOWNLOAD) || truthy(configParam(config, "download"))),
    downloadUrl: options.downloadUrl ?? process.env.WHISPER_MODEL_URL ?? "",
    downloadTimeoutMs: options.downloadTimeoutMs ?? 15_000,
    threads: Math.max(1, Math.floor(options.threads ?? envNumber("WHISPER_THREADS") ?? Math.min(8, cores))),
    beamSize: Math.max(1, Math.floor(options.beamSize ?? envNumber("WHISPER_BEAM_SIZE") ?? 1)),
    temperatureIncrement: options.temperatureIncrement ?? 0.2,
    maxQueue: Math.max(0, Math.floor(options.maxQueue ?? envNumber("WHISPER_MAX_QUEUE") ?? 32)),
    maxAudioSeconds: options.maxAudioSeconds ?? envNumber("WHISPER_MAX_AUDIO_SECONDS") ?? 3600,
    defaultLanguage: options.defaultLanguage ?? configParam(config, "default_language") ?? "auto",
    loadTimeoutMs: options.loadTimeoutMs ?? 300_000,
  };
}

function installHint(dir: string, file = DEFAULT_MODEL_FILE): string {
  return (
    `put a whisper.cpp model file (ggml-*.bin) in ${dir}, e.g. ` +
    `\`mkdir -p ${dir} && curl -fL -o ${join(dir, file)} ${DEFAULT_DOWNLOAD_BASE}${file}\` ` +
    `(1.6 GB; ggml-large-v3-turbo-q5_0.bin is 0.55 GB, ggml-small.bin 0.47 GB), ` +
    `or set WHISPER_MODEL_FILE to such a file, or set WHISPER_DOWNLOAD=1 to fetch ${file} there at start`
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The model file to use, or null with the directory searched. */
async function findModelFile(dir: string, named: string): Promise<string | null> {
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

// ---------------------------------------------------------------------------------------------
// The child process that runs whisper.cpp

const HOST_URL = new URL(import.meta.url.endsWith(".ts") ? "./whisper-host.ts" : "./whisper-host.js", import.meta.url);

interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** True when the parent ended it. */
  killed: boolean;
}

/** One whisper.cpp process holding one loaded model. */
class WhisperHost {
  private readonly child: ChildProcess;
  private stderr = "";
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: { segments: HostSegment[]; ms: number }) => void; reject: (e: Error) => void }>();
  private loadWaiter?: { resolve: (ms: number) => void; reject: (e: Error) => void };
  private killedByUs = false;
  readonly exited: Promise<HostExit>;

  constructor(private readonly logger: Logger) {
    const execArgv: string[] = [];
    if (HOST_URL.pathname.endsWith(".ts")) {
      const tsx = createRequire(import.meta.url).resolve("tsx");
      execArgv.push("--import", pathToFileURL(tsx).href);
    }
    this.child = fork(fileURLToPath(HOST_URL), [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.stderr = (this.stderr + text).slice(-8192);
      for (const line of text.split("\n")) if (line.trim()) this.logger.debug({ whisper_cpp: line.trim() }, "whisper.cpp");
    };
    this.child.stdout?.on("data", onOutput);
    this.child.stderr?.on("data", onOutput);
    this.child.on("message", (msg: HostReply) => this.onMessage(msg));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        const exit: HostExit = { code, signal, stderr: this.stderr, killed: this.killedByUs };
        const err = new Error(`whisper runtime process exited (${signal ?? `code ${code}`})${lastLines(this.stderr)}`);
        this.loadWaiter?.reject(err);
        this.loadWaiter = undefined;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        resolve(exit);
      });
    });
    this.child.on("error", (err) => this.logger.warn({ err }, "whisper runtime process error"));
  }

  private onMessage(msg: HostReply): void {
    if (msg.op === "loaded") {
      this.loadWaiter?.resolve(msg.ms);
      this.loadWaiter = undefined;
    } else if (msg.op === "load-failed") {
      this.loadWaiter?.reject(new Error(`${msg.message}${lastLines(this.stderr)}`));
      this.loadWaiter = undefined;
    } else if (msg.op === "result" || msg.op === "failed") {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.op === "result") p.resolve({ segments: msg.segments, ms: msg.ms });
      else p.reject(new Error(`whisper.cpp: ${msg.message}`));
    }
  }

  private send(msg: HostRequest): void {
    this.child.send(msg);
  }

  load(file: string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`loading took longer than ${Math.round(timeoutMs / 1000)} s`));
        this.kill();
      }, timeoutMs);
      this.loadWaiter = {
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.send({ op: "load", file });
    });
  }

  transcribe(pcm: Float32Array, params: Extract<HostRequest, { op: "transcribe" }>["params"]): Promise<{ segments: HostSegment[]; ms: number }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.send({ op: "transcribe", id, pcm, params });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killedByUs = true;
    this.child.kill("SIGKILL");
  }
}

function lastLines(stderr: string, n = 6): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^whisper_(model_load|init_state|print_timings):\s+\S+\s+=|^ggml_gallocr/.test(l));
  return lines.length ? `: ${lines.slice(-n).join(" | ")}` : "";
}

// ---------------------------------------------------------------------------------------------
// From whisper.cpp's tokens to the SEGMENTS contract

const utf8 = new TextDecoder("utf-8", { fatal: false });
const encoder = new TextEncoder();

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round4 = (x: number) => Math.round(x * 10000) / 10000;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Turns whisper.cpp's detailed segments into the contract's segments: text from the token bytes
 * of the model's own vocabulary (so Arabic letters split across tokens decode exactly), words
 * split at tokens that begin with a space, word times from the token timestamps, and every time
 * clamped into [0, duration], monotone, and inside its segment. Segments without text are left
 * out. whisper.cpp 1.6 computes no no-speech probability; it is reported as 0.
 */
export function buildSegments(
  raw: readonly HostSegment[],
  vocab: readonly Uint8Array[],
  eot: number,
  duration: number,
): AsrSegment[] {
  const out: AsrSegment[] = [];
  let prevEnd = 0;
  for (const seg of raw) {
    const tokens = seg.tokens.filter((t) => t.id < eot);
    const bytesOf = (t: HostSegment["tokens"][number]) => vocab[t.id] ?? encoder.encode(t.text);
    const text = (tokens.length ? utf8.decode(concatBytes(tokens.map(bytesOf))) : seg.text).trim();
    if (!text) continue;
    const rawStart = Number.isFinite(seg.from) && seg.from >= 0 ? seg.from / 1000 : prevEnd;
    const start = clamp(rawStart, prevEnd, duration);
    const rawEnd = Number.isFinite(seg.to) ? seg.to / 1000 : duration;
    const end = clamp(rawEnd, start, duration);

    // Group tokens into words.
    const groups: (typeof tokens)[] = [];
    for (const t of tokens) {
      const b = bytesOf(t);
      const last = groups[groups.length - 1];
      if (!last || b[0] === 0x20) groups.push([t]);
      else last.push(t);
    }
    const words: AsrWord[] = [];
    let wordEnd = start;
    groups.forEach((g, gi) => {
      const word = utf8.decode(concatBytes(g.map(bytesOf))).trim();
      if (!word) return;
      const froms = g.map((t) => t.from).filter((x): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0);
      const tos = g.map((t) => t.to).filter((x): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0);
      // Without token times, spread the words evenly over the segment.
      const evenStart = start + ((end - start) * gi) / groups.length;
      const evenEnd = start + ((end - start) * (gi + 1)) / groups.length;
      let ws = froms.length ? Math.min(...froms) / 1000 : evenStart;
      let we = tos.length ? Math.max(...tos) / 1000 : evenEnd;
      ws = clamp(ws, Math.max(start, wordEnd), end);
      we = clamp(we, ws, end);
      wordEnd = we;
      const p = g.reduce((s, t) => s + clamp(Number.isFinite(t.p) ? t.p : 0, 0, 1), 0) / g.length;
      words.push({ word, start: round3(ws), end: round3(we), probability: round4(p) });
    });
    const logprob = tokens.length
      ? tokens.reduce((s, t) => s + Math.log(clamp(Number.isFinite(t.p) ? t.p : 0, 1e-10, 1)), 0) / tokens.length
      : 0;
    out.push({
      start: round3(start),
      end: round3(end),
      text,
      avg_logprob: round4(logprob),
      no_speech_prob: 0,
      words,
    });
    prevEnd = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests

interface DecodeRequest {
  pcm: Float32Array;
  language: string;
  translate: boolean;
  prompt: string;
}

/** Whisper language code from "ar", "ar-EG", "AR_sa", "auto" or "". */
export function normalizeLanguage(value: string, nLanguages: number, tensor = "LANGUAGE"): string {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  const code = v.split(/[-_]/)[0]!;
  const known = WHISPER_LANGUAGES.slice(0, nLanguages);
  if (!known.includes(code)) {
    throw new InferenceInputError(tensor, `language "${value}" is not one whisper knows (e.g. ar, en, fr; or auto)`);
  }
  return code;
}

// ---------------------------------------------------------------------------------------------
// The model

type Status =
  | { state: "unloaded" }
  | { state: "downloading"; url: string; file: string; received: number; total: number }
  | { state: "loading"; file: string }
  | { state: "ready" }
  | { state: "failed"; reason: string };

interface Job {
  request: DecodeRequest;
  durationS: number;
  signal: AbortSignal;
  settled: boolean;
  resolve: (segments: HostSegment[]) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

export function createWhisperModel(
  config: ModelConfig,
  ctx: { weightsDir: string; logger: Logger },
  options: WhisperModelOptions = {},
): LocalModel {
  return new WhisperLocalModel(config, ctx, options);
}

class WhisperLocalModel implements LocalModel {
  private readonly opts: Required<WhisperModelOptions>;
  private readonly dir: string;
  private readonly logger: Logger;
  private status: Status = { state: "unloaded" };
  private info?: WhisperGgmlInfo;
  private host?: WhisperHost;
  /** Resolves when a (re)started host has the model loaded; rejects when it cannot. */
  private hostReady?: Promise<WhisperHost>;
  private restartMs = 0;
  private readonly queue: Job[] = [];
  private running?: Job;
  private runningSince = 0;
  /** Milliseconds of decode per second of audio, averaged over recent decodes. */
  private msPerAudioSecond?: number;
  private generation = 0;
  private readonly contractProblem?: string;

  constructor(
    readonly config: ModelConfig,
    ctx: { weightsDir: string; logger: Logger },
    options: WhisperModelOptions,
  ) {
    this.opts = resolveOptions(config, options);
    this.dir = join(ctx.weightsDir, "whisper");
    this.logger = ctx.logger.child({ model: config.name || "whisper" });
    this.contractProblem = checkContract(config);
  }

  readiness(): ModelReadiness {
    const s = this.status;
    switch (s.state) {
      case "ready":
        return { ready: true };
      case "unloaded":
        return { ready: false, reason: "whisper is not loaded" };
      case "downloading": {
        const mb = (n: number) => (n / 1e6).toFixed(0);
        const of = s.total > 0 ? ` of ${mb(s.total)} MB` : "";
        return { ready: false, reason: `downloading ${s.url} to ${s.file}: ${mb(s.received)} MB${of}` };
      }
      case "loading":
        return { ready: false, reason: `loading ${s.file}` };
      case "failed":
        return { ready: false, reason: s.reason };
    }
  }

  async load(): Promise<void> {
    if (this.status.state === "ready" || this.status.state === "loading" || this.status.state === "downloading") return;
    const generation = ++this.generation;
    if (this.contractProblem) {
      this.fail(this.contractProblem);
      return;
    }
    const file = await findModelFile(this.dir, this.opts.modelFile);
    if (generation !== this.generation) return;
    if (file === null || !(await exists(file))) {
      const name = file ? (isAbsolute(this.opts.modelFile) ? null : this.opts.modelFile) : DEFAULT_MODEL_FILE;
      if (this.opts.download && name !== null) {
        // Fetch in the background: the sidecar serves its other models meanwhile and reports
        // this one not ready with the progress.
        void this.downloadThenLoad(join(this.dir, name), name, generation);
        return;
      }
      this.fail(
        file
          ? `whisper model file ${file} does not exist: ${installHint(this.dir)}`
          : `no whisper model in ${this.dir}: ${installHint(this.dir)}`,
      );
      return;
    }
    await this.loadFile(file, generation);
  }

  private fail(reason: string): void {
    this.status = { state: "failed", reason };
    this.logger.warn({ reason }, "whisper not ready");
  }

  private async downloadThenLoad(file: string, name: string, generation: number): Promise<void> {
    const url = this.opts.downloadUrl || `${DEFAULT_DOWNLOAD_BASE}${name}`;
    this.status = { state: "downloading", url, file, received: 0, total: 0 };
    const partial = `${file}.partial`;
    const controller = new AbortController();
    let stall: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(() => controller.abort(new Error(`no data for ${this.opts.downloadTimeoutMs} ms`)), this.opts.downloadTimeoutMs);
    };
    try {
      await mkdir(this.dir, { recursive: true });
      arm();
      const res = await fetch(url, { signal: controller.signal, redirect: "follow" });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      const total = Number(res.headers.get("content-length") ?? 0);
      const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      body.on("data", (chunk: Buffer) => {
        arm();
        if (this.status.state === "downloading") {
          this.status.received += chunk.length;
          this.status.total = total;
        }
      });
      await pipeline(body, createWriteStream(partial));
      clearTimeout(stall);
      if (generation !== this.generation) {
        await rm(partial, { force: true });
        return;
      }
      await rename(partial, file);
      this.logger.info({ url, file }, "whisper model downloaded");
    } catch (err) {
      clearTimeout(stall);
      await rm(partial, { force: true }).catch(() => {});
      if (generation !== this.generation) return;
      const cause = (err as Error & { cause?: Error }).cause;
      const why = `${(err as Error).message}${cause ? ` (${cause.message})` : ""}`;
      this.fail(`could not download ${url}: ${why}; ${installHint(this.dir, name)}`);
      return;
    }
    await this.loadFile(file, generation);
  }

  private async loadFile(file: string, generation: number): Promise<void> {
    this.status = { state: "loading", file };
    let info: WhisperGgmlInfo;
    try {
      info = await inspectWhisperGgml(file);
    } catch (err) {
      if (generation !== this.generation) return;
      const reason = err instanceof WhisperModelFileError ? err.reason : (err as Error).message;
      this.fail(`whisper model file ${file} is unusable: ${reason}; replace it (${installHint(this.dir)})`);
      return;
    }
    if (generation !== this.generation) return;
    this.info = info;
    try {
      const t0 = performance.now();
      const host = await this.startHost(file);
      this.restartMs = performance.now() - t0;
      if (generation !== this.generation) {
        host.kill();
        return;
      }
      this.status = { state: "ready" };
      this.logger.info(
        { file, type: info.modelType, weights: info.weightType, bytes: info.bytes, load_ms: Math.round(this.restartMs), threads: this.opts.threads },
        "whisper ready",
      );
    } catch (err) {
      if (generation !== this.generation) return;
      this.fail(`whisper.cpp could not load ${file}: ${(err as Error).message}; replace it (${installHint(this.dir)})`);
    }
  }

  /** Starts a host process and loads the model in it; it becomes this.host. */
  private startHost(file: string): Promise<WhisperHost> {
    const host = new WhisperHost(this.logger);
    this.host = host;
    const ready = host.load(file, this.opts.loadTimeoutMs).then(() => host);
    this.hostReady = ready;
    ready.catch(() => host.kill());
    void host.exited.then((exit) => this.onHostExit(host, file, exit));
    return ready;
  }

  private onHostExit(host: WhisperHost, file: string, exit: HostExit): void {
    if (host !== this.host || this.status.state !== "ready") return;
    if (exit.killed) return; // a restart we asked for; the caller started the next host
    // A crash while serving: the running decode has been rejected by the host; start again.
    this.logger.error({ code: exit.code, signal: exit.signal, stderr: lastLines(exit.stderr) }, "whisper runtime crashed; restarting");
    this.restartHost(file);
  }

  private restartHost(file: string): void {
    const generation = this.generation;
    this.startHost(file).then(
      () => this.pump(),
      (err: Error) => {
        if (generation !== this.generation) return;
        this.fail(`whisper.cpp could not reload ${file}: ${err.message}`);
        this.rejectQueued(new UnavailableError(`whisper is not ready: ${err.message}`));
      },
    );
  }

  async infer(inputs: ReadonlyMap<string, Tensor>, parameters: InferParameters, signal: AbortSignal): Promise<Tensor[]> {
    if (this.status.state !== "ready" || !this.info) {
      throw new UnavailableError(`whisper is not ready: ${this.readiness().reason ?? ""}`);
    }
    signal.throwIfAborted();
    const items = asrItems(this.config, inputs, parameters);
    const nLanguages = this.info.specials.nLanguages;
    const requests: DecodeRequest[] = items.map((item, row) => {
      const n = item.audio.length;
      if (n === 0) throw new InferenceInputError("AUDIO", "is empty");
      if (n / SAMPLE_RATE > this.opts.maxAudioSeconds) {
        throw new InferenceInputError("AUDIO", `${(n / SAMPLE_RATE).toFixed(1)} s is longer than the ${this.opts.maxAudioSeconds} s this server accepts`);
      }
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(item.audio[i]!)) throw new InferenceInputError("AUDIO", `sample ${i} of row ${row} is not a finite number`);
      }
      const language = normalizeLanguage(item.language ?? this.opts.defaultLanguage, nLanguages);
      const task = (item.task ?? "transcribe").trim().toLowerCase();
      if (task !== "transcribe" && task !== "translate") {
        throw new InferenceInputError("TASK", `"${item.task}" is neither transcribe nor translate`);
      }
      // A copy: the row may be a view of the whole batch, which would travel to the runtime whole.
      return { pcm: item.audio.slice(), language, translate: task === "translate", prompt: item.prompt ?? "" };
    });
    if (this.queue.length + requests.length > this.opts.maxQueue + (this.running ? 0 : 1)) {
      throw new ResourceExhaustedError(
        `whisper has ${this.queue.length} decodes waiting (limit ${this.opts.maxQueue}); retry later`,
        Math.max(1, Math.ceil(((this.msPerAudioSecond ?? 1000) * 30 * (this.queue.length + 1)) / 1000)),
      );
    }
    const raw = await Promise.all(requests.map((req) => this.enqueue(req, signal)));
    const results: AsrResult[] = raw.map((segs, r) => {
      const req = requests[r]!;
      const duration = req.pcm.length / SAMPLE_RATE;
      const detected = segs.find((s) => s.lang)?.lang;
      return {
        language: detected || (req.language === "auto" ? "" : req.language),
        duration: round3(duration),
        segments: buildSegments(segs, this.info!.vocab, this.info!.specials.eot, duration),
      };
    });
    return asrOutputs(this.config, results);
  }

  private enqueue(request: DecodeRequest, signal: AbortSignal): Promise<HostSegment[]> {
    return new Promise<HostSegment[]>((resolve, reject) => {
      const job: Job = {
        request,
        durationS: request.pcm.length / SAMPLE_RATE,
        signal,
        settled: false,
        resolve: (v) => {
          if (job.settled) return;
          job.settled = true;
          job.cleanup();
          resolve(v);
        },
        reject: (e) => {
          if (job.settled) return;
          job.settled = true;
          job.cleanup();
          reject(e);
        },
        cleanup: () => signal.removeEventListener("abort", onAbort),
      };
      const onAbort = () => this.abort(job);
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  private abort(job: Job): void {
    const reason = job.signal.reason ?? new Error("aborted");
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      job.reject(reason);
      return;
    }
    if (this.running !== job) return;
    job.reject(reason);
    // End the decode when finishing it would cost more than reloading the model.
    const elapsed = performance.now() - this.runningSince;
    const expected = this.msPerAudioSecond === undefined ? Infinity : this.msPerAudioSecond * job.durationS;
    const remaining = expected - elapsed;
    if (remaining > this.restartMs && this.host && this.status.state === "ready" && this.info) {
      this.logger.debug({ remaining_ms: Math.round(remaining), restart_ms: Math.round(this.restartMs) }, "whisper: ending an abandoned decode");
      this.host.kill();
      this.running = undefined;
      this.restartHost(this.info.path);
    }
  }

  private pump(): void {
    if (this.running || this.status.state !== "ready") return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    void this.run(job).finally(() => {
      if (this.running === job) this.running = undefined;
      this.pump();
    });
  }

  private async run(job: Job): Promise<void> {
    let host: WhisperHost;
    try {
      host = await this.hostReady!;
    } catch (err) {
      job.reject(new UnavailableError(`whisper is not ready: ${(err as Error).message}`));
      return;
    }
    if (job.settled) return;
    this.runningSince = performance.now();
    const { request } = job;
    const params = {
      language: request.language,
      translate: request.translate,
      ...(request.prompt ? { initial_prompt: request.prompt } : {}),
      token_timestamps: true as const,
      n_threads: this.opts.threads,
      strategy: this.opts.beamSize > 1 ? 1 : 0,
      beam_size: this.opts.beamSize,
      best_of: 5,
      temperature: 0,
      temperature_inc: this.opts.temperatureIncrement,
      suppress_non_speech_tokens: true,
    };
    try {
      const { segments, ms } = await host.transcribe(request.pcm, params);
      const rate = ms / Math.max(job.durationS, 1);
      this.msPerAudioSecond = this.msPerAudioSecond === undefined ? rate : 0.7 * this.msPerAudioSecond + 0.3 * rate;
      job.resolve(segments);
    } catch (err) {
      job.reject(new UnavailableError(`whisper decode failed: ${(err as Error).message}`));
    }
  }

  private rejectQueued(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  async unload(): Promise<void> {
    this.generation++;
    this.status = { state: "unloaded" };
    this.rejectQueued(new UnavailableError("whisper is unloading"));
    this.running?.reject(new UnavailableError("whisper is unloading"));
    this.running = undefined;
    const host = this.host;
    this.host = undefined;
    this.hostReady = undefined;
    if (host) {
      host.kill();
      await host.exited;
    }
  }
}

/** Why config.pbtxt does not declare the ASR contract this model serves, if it does not. */
function checkContract(config: ModelConfig): string | undefined {
  const problems: string[] = [];
  for (const [name, type] of Object.entries(CONTRACT.inputs)) {
    const t = config.input.find((i) => i.name === name);
    if (!t) {
      if (name === "AUDIO") problems.push(`input ${name} is missing`);
      continue;
    }
    if (t.dataType !== type) problems.push(`input ${name} must be ${DataType[type]}, is ${DataType[t.dataType]}`);
  }
  for (const [name, type] of Object.entries(CONTRACT.outputs)) {
    const t = config.output.find((o) => o.name === name);
    if (!t) problems.push(`output ${name} is missing`);
    else if (t.dataType !== type) problems.push(`output ${name} must be ${DataType[type]}, is ${DataType[t.dataType]}`);
  }
  return problems.length ? `config.pbtxt of ${config.name || "whisper"} does not match the ASR contract: ${problems.join("; ")}` : undefined;
}
