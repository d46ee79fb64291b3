// The local sidecar's `whisper` model: Whisper on CPU through whisper.cpp (the smart-whisper
// binding, built from source at install), behind the ASR tensor contract of
// inference/models/whisper/config.pbtxt:
//
//   in   AUDIO      FP32  [-1]  16 kHz mono in [-1, 1] (a request carries [1, N] under batching)
//        LANGUAGE   BYTES [1]   optional: "ar", "ar-EG" (region dropped), "auto"/"" detects
//        TASK       BYTES [1]   optional: "transcribe" (default) | "translate" (to English)
//        PROMPT     BYTES [1]   optional: initial prompt (vocabulary, spelling, previous text)
//        MAX_ALTERNATIVES INT32 [1] optional: 1 to 10, checked; one hypothesis comes back anyway,
//                               since whisper.cpp exposes only its winning beam
//   out  TRANSCRIPT BYTES [1]   the text
//        SEGMENTS   BYTES [1]   JSON {"language","duration","segments":[{"start","end","text",
//                               "avg_logprob","no_speech_prob","words":[{"word","start","end",
//                               "probability"}]}]}, times in seconds from the start of AUDIO
//        ALTERNATIVES BYTES [1] JSON array of texts, best first: here [TRANSCRIPT]
//
// LANGUAGE/TASK/PROMPT may also come as request parameters (`language`, `task`, `prompt`);
// an input tensor wins over a parameter.
//
// Weights: a whisper.cpp model file (ggml-*.bin) in <weightsDir>/whisper/. The file is picked
// by the modelFile option (WHISPER_MODEL_FILE: a path, or a name inside that directory), else the config parameter
// `model_file`, else the first present of PREFERRED_MODEL_FILES, else any ggml-*.bin there.
// With WHISPER_DOWNLOAD=1 (or config parameter `download: "true"`) a missing file is fetched
// once from the public hub (WHISPER_MODEL_URL, default the ggerganov/whisper.cpp repository on
// Hugging Face) into that directory. Without a usable file the model is not ready and its
// reason says exactly how to install one; infer() is never called then (the sidecar answers
// UNAVAILABLE).
//
// Each file is checked before whisper.cpp sees it (whisper-ggml.ts), and whisper.cpp runs in a
// child process (whisper-host.ts, driven through whisper-host-process.ts): a corrupt model, a native abort or a crash costs a restart
// of that child, never the sidecar. whisper.cpp runs one decode at a time per context, so
// requests are served in order from a bounded queue (RESOURCE_EXHAUSTED beyond it); each row
// of a batched request is one queued decode. An AbortSignal drops a queued request at once; a
// running decode is abandoned at once too, and its process is ended and reloaded when the
// decode's expected remaining time exceeds the cost of a reload (otherwise it finishes unseen).
import os from "node:os";
import { isAbsolute, join } from "node:path";
import { DataType, type ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import type { Logger } from "../../logger.js";
import { ModelOverloadedError, ModelUnavailableError, type InferParameters, type LocalModel, type ModelReadiness, type Tensor } from "./model.js";
import { asrItems, asrOutputs } from "./asr.js";
import type { LocalModelContext } from "./context.js";
import type { HostSegment } from "./whisper-host.js";
import { lastLines, WhisperHost, type HostExit } from "./whisper-host-process.js";
import { DEFAULT_DOWNLOAD_BASE, DEFAULT_MODEL_FILE, downloadModelFile, exists, findModelFile, installHint } from "./whisper-files.js";
import { inspectWhisperGgml, WhisperModelFileError, type WhisperGgmlInfo } from "./whisper-ggml.js";
import { decodeParams, decodeRequests, decodeResult, SAMPLE_RATE, type DecodeRequest } from "./whisper-requests.js";

/** Tensor names of the contract; checked against config.pbtxt at creation. */
const CONTRACT = {
  inputs: {
    AUDIO: DataType.TYPE_FP32,
    LANGUAGE: DataType.TYPE_STRING,
    TASK: DataType.TYPE_STRING,
    PROMPT: DataType.TYPE_STRING,
    MAX_ALTERNATIVES: DataType.TYPE_INT32,
  },
  outputs: { TRANSCRIPT: DataType.TYPE_STRING, SEGMENTS: DataType.TYPE_STRING, ALTERNATIVES: DataType.TYPE_STRING },
} as const;

export interface WhisperModelOptions {
  /** Model file: a path, or a file name inside <weightsDir>/whisper/. WHISPER_MODEL_FILE. */
  modelFile?: string;
  /** Fetch a missing file from the hub at load. WHISPER_DOWNLOAD=1. Default false. */
  download?: boolean;
  /** Where to fetch it. WHISPER_MODEL_URL. Default DEFAULT_DOWNLOAD_BASE + file name. */
  downloadUrl?: string;
  /** How long to wait for the hub's response headers, and for each chunk after. Default 15 s. */
  downloadTimeoutMs?: number;
  /** whisper.cpp threads per decode. WHISPER_THREADS. Default min(8, cores). */
  threads?: number;
  /** Beam size; 1 = greedy (best_of 5 on temperature fallback). WHISPER_BEAM_SIZE. Default 1. */
  beamSize?: number;
  /** Temperature step of the fallback on low log-probability / repetitive output (0 disables). Default 0.2. */
  temperatureIncrement?: number;
  /** Decodes that may wait behind the running one. WHISPER_MAX_QUEUE. Default 32. */
  maxQueue?: number;
  /** Longest AUDIO accepted, in seconds. WHISPER_MAX_AUDIO_SECONDS. Default 3600. */
  maxAudioSeconds?: number;
  /** Language when the request names none ("auto" detects). Config parameter `default_language`. */
  defaultLanguage?: string;
  /** How long a model may take to load. Default 300 s. */
  loadTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Options and the model file

function configParam(config: ModelConfig, key: string): string | undefined {
  const v = config.parameters?.[key]?.stringValue;
  return v === undefined || v === "" ? undefined : v;
}

function resolveOptions(config: ModelConfig, options: WhisperModelOptions): Required<WhisperModelOptions> {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
  return {
    modelFile: options.modelFile ?? configParam(config, "model_file") ?? "",
    download: options.download ?? truthy(configParam(config, "download")),
    downloadUrl: options.downloadUrl ?? "",
    downloadTimeoutMs: options.downloadTimeoutMs ?? 15_000,
    threads: Math.max(1, Math.floor(options.threads ?? Math.min(8, cores))),
    beamSize: Math.max(1, Math.floor(options.beamSize ?? 1)),
    temperatureIncrement: options.temperatureIncrement ?? 0.2,
    maxQueue: Math.max(0, Math.floor(options.maxQueue ?? 32)),
    maxAudioSeconds: options.maxAudioSeconds ?? 3600,
    defaultLanguage: options.defaultLanguage ?? configParam(config, "default_language") ?? "auto",
    loadTimeoutMs: options.loadTimeoutMs ?? 300_000,
  };
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
  ctx: LocalModelContext,
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
    ctx: LocalModelContext,
    options: WhisperModelOptions,
  ) {
    this.opts = resolveOptions(config, options);
    this.dir = join(ctx.weightsDir, "whisper");
    this.logger = ctx.logger.child({ model: config.name || "whisper" });
    this.contractProblem = checkContract(config);
  }

  readiness(): ModelReadiness {
    return readinessOf(this.status);
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
    try {
      const placed = await downloadModelFile({
        url,
        dir: this.dir,
        file,
        timeoutMs: this.opts.downloadTimeoutMs,
        onProgress: (bytes, total) => {
          if (this.status.state === "downloading") {
            this.status.received += bytes;
            this.status.total = total;
          }
        },
        isWanted: () => generation === this.generation,
      });
      if (!placed) return;
      this.logger.info({ url, file }, "whisper model downloaded");
    } catch (err) {
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
        this.rejectQueued(new ModelUnavailableError(`whisper is not ready: ${err.message}`));
      },
    );
  }

  async infer(inputs: ReadonlyMap<string, Tensor>, parameters: InferParameters, signal: AbortSignal): Promise<Tensor[]> {
    if (this.status.state !== "ready" || !this.info) {
      throw new ModelUnavailableError(`whisper is not ready: ${this.readiness().reason ?? ""}`);
    }
    signal.throwIfAborted();
    const items = asrItems(this.config, inputs, parameters);
    const requests = decodeRequests(items, this.opts, this.info.specials.nLanguages);
    if (this.queue.length + requests.length > this.opts.maxQueue + (this.running ? 0 : 1)) {
      throw new ModelOverloadedError(
        `whisper has ${this.queue.length} decodes waiting (limit ${this.opts.maxQueue}); retry later`,
        Math.max(1, Math.ceil(((this.msPerAudioSecond ?? 1000) * 30 * (this.queue.length + 1)) / 1000)),
      );
    }
    const raw = await Promise.all(requests.map((req) => this.enqueue(req, signal)));
    const { vocab, specials } = this.info;
    return asrOutputs(
      this.config,
      raw.map((segments, r) => decodeResult(requests[r]!, segments, vocab, specials.eot)),
    );
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
      job.reject(new ModelUnavailableError(`whisper is not ready: ${(err as Error).message}`));
      return;
    }
    if (job.settled) return;
    this.runningSince = performance.now();
    try {
      const { segments, ms } = await host.transcribe(job.request.pcm, decodeParams(job.request, this.opts));
      const rate = ms / Math.max(job.durationS, 1);
      this.msPerAudioSecond = this.msPerAudioSecond === undefined ? rate : 0.7 * this.msPerAudioSecond + 0.3 * rate;
      job.resolve(segments);
    } catch (err) {
      job.reject(new ModelUnavailableError(`whisper decode failed: ${(err as Error).message}`));
    }
  }

  private rejectQueued(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  async unload(): Promise<void> {
    this.generation++;
    this.status = { state: "unloaded" };
    this.rejectQueued(new ModelUnavailableError("whisper is unloading"));
    this.running?.reject(new ModelUnavailableError("whisper is unloading"));
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

function readinessOf(status: Status): ModelReadiness {
  switch (status.state) {
    case "ready":
      return { ready: true };
    case "unloaded":
      return { ready: false, reason: "whisper is not loaded" };
    case "downloading": {
      const mb = (n: number) => (n / 1e6).toFixed(0);
      const of = status.total > 0 ? ` of ${mb(status.total)} MB` : "";
      return { ready: false, reason: `downloading ${status.url} to ${status.file}: ${mb(status.received)} MB${of}` };
    }
    case "loading":
      return { ready: false, reason: `loading ${status.file}` };
    case "failed":
      return { ready: false, reason: status.reason };
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
