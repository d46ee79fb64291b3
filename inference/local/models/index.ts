// The models the local sidecar can run, by repository name. The sidecar pairs each model directory
// of the repository with the factory of the same name here; a model with no factory is listed as
// unavailable (Triton can still serve it). To add a model: write `<name>.ts` exporting a factory
// and add one line below.
import type { LocalModelFactory } from "./context.js";
import { createDtmfModel } from "./dtmf.js";
import { createSpeakerEmbeddingModel } from "./speaker-embedding.js";
import { createVadModel } from "./vad.js";
import { createWhisperModel, type WhisperModelOptions } from "./whisper.js";

export type { LocalModelContext, LocalModelFactory } from "./context.js";

/** Settings of the models that take any beyond their config.pbtxt (see ../config.ts). */
export interface LocalModelSettings {
  whisper?: WhisperModelOptions;
}

/** The sidecar's models, with `settings`. */
export function localModelFactories(settings: LocalModelSettings = {}): ReadonlyMap<string, LocalModelFactory> {
  return new Map<string, LocalModelFactory>([
    ["dtmf", createDtmfModel],
    ["speaker_embedding", createSpeakerEmbeddingModel],
    ["vad", createVadModel],
    // The same Silero VAD with its state kept per live channel (its config declares sequence batching).
    ["vad_stream", createVadModel],
    ["whisper", (config, ctx) => createWhisperModel(config, ctx, settings.whisper)],
  ]);
}

/**
 * Models whose instances the sidecar runs in worker threads: they compute on the thread that calls
 * them (TypeScript DSP, onnxruntime-node's synchronous run). whisper is not among them: whisper.cpp
 * already runs in a child process of its own (whisper-host.ts), so its thread only waits.
 */
export const THREADED_MODELS: ReadonlySet<string> = new Set(["dtmf", "vad", "vad_stream", "speaker_embedding"]);

/** The sidecar's models with their default settings. */
export const localModels: ReadonlyMap<string, LocalModelFactory> = localModelFactories();
