// The settings of the local sidecar, from the environment: the one module of inference/ that reads
// it. `npm run sidecar` (main.ts) loads them all with loadSidecarConfig; a process that runs the
// sidecar inside itself parses the WHISPER_* part with whisperOptions from its own config module.
// Everything else gets its settings as arguments.
//   SIDECAR_HOST               interface to listen on (127.0.0.1)
//   SIDECAR_PORT               port (8001, Triton's gRPC port)
//   MODEL_REPOSITORY           the repository Triton also reads (inference/models)
//   MODEL_WEIGHTS_DIR          installed weights, e.g. speaker_embedding/model.onnx (./data/models)
//   LOG_LEVEL                  pino level (info)
//   OTEL_EXPORTER_OTLP_ENDPOINT  an OpenTelemetry collector's base URL; unset: no tracing
//   OTEL_SERVICE_NAME          service.name of the sidecar's spans (arabicstt-sidecar)
//   WHISPER_MODEL_FILE, WHISPER_DOWNLOAD, WHISPER_MODEL_URL, WHISPER_THREADS, WHISPER_BEAM_SIZE,
//   WHISPER_MAX_QUEUE, WHISPER_MAX_AUDIO_SECONDS: see WhisperModelOptions (models/whisper.ts)
import { resolve } from "node:path";
import type { WhisperModelOptions } from "./models/whisper.js";

/** Environment variables by name, as process.env holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SidecarConfig {
  host: string;
  port: number;
  /** The model repository, absolute. */
  modelsDir: string;
  /** Installed weights, absolute. */
  weightsDir: string;
  logLevel: LogLevel;
  whisper: WhisperModelOptions;
  /** Traces (inference/telemetry/tracing.ts): exported when `endpoint` is set. */
  tracing: { endpoint?: string; serviceName: string };
}

/** A setting is wrong; `message` is one line that says which and what it must be. */
export class SidecarConfigError extends Error {
  override readonly name = "SidecarConfigError";
}

export function loadSidecarConfig(env: Environment = process.env): SidecarConfig {
  const logLevel = (env.LOG_LEVEL ?? "info") as LogLevel;
  const port = Number(env.SIDECAR_PORT ?? "8001");
  if (!LOG_LEVELS.includes(logLevel) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SidecarConfigError(
      `config error: LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} and SIDECAR_PORT an integer between 0 and 65535`,
    );
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
  if (endpoint !== undefined && !/^https?:$/.test(URL.parse(endpoint)?.protocol ?? "")) {
    throw new SidecarConfigError(`config error: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL starting with http:// or https:// (got ${JSON.stringify(endpoint)})`);
  }
  return {
    host: env.SIDECAR_HOST ?? "127.0.0.1",
    port,
    modelsDir: resolve(env.MODEL_REPOSITORY ?? "inference/models"),
    weightsDir: resolve(env.MODEL_WEIGHTS_DIR ?? "./data/models"),
    logLevel,
    whisper: whisperOptions(env),
    tracing: { endpoint, serviceName: env.OTEL_SERVICE_NAME?.trim() || "arabicstt-sidecar" },
  };
}

/**
 * The whisper model's settings from WHISPER_*. A variable left out (or, for a number, not a
 * number) leaves its option out, so the config parameter or the default applies; WHISPER_DOWNLOAD
 * only ever turns downloading on, so config parameter `download` still can when it is unset.
 */
export function whisperOptions(env: Environment): WhisperModelOptions {
  const options: WhisperModelOptions = {
    modelFile: env.WHISPER_MODEL_FILE,
    download: truthy(env.WHISPER_DOWNLOAD) ? true : undefined,
    downloadUrl: env.WHISPER_MODEL_URL,
    threads: numberOf(env.WHISPER_THREADS),
    beamSize: numberOf(env.WHISPER_BEAM_SIZE),
    maxQueue: numberOf(env.WHISPER_MAX_QUEUE),
    maxAudioSeconds: numberOf(env.WHISPER_MAX_AUDIO_SECONDS),
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as WhisperModelOptions;
}

/** The environment a test passes on to a child process it spawns: this one's, with `extra` on top. */
export function childEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function numberOf(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
