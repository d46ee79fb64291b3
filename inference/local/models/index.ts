// The models the local sidecar can run, by repository name. The sidecar pairs each model directory
// of the repository with the factory of the same name here; a model with no factory is listed as
// unavailable (Triton can still serve it). To add a model: write `<name>.ts` exporting a factory
// and add one line below.
import type { Logger } from "pino";
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import type { LocalModel } from "../model.js";
import { createDtmfModel } from "./dtmf.js";
import { createSpeakerEmbeddingModel } from "./speaker-embedding.js";
import { createVadModel } from "./vad.js";
import { createWhisperModel } from "./whisper.js";

/** What a model gets from the sidecar besides its config. */
export interface LocalModelContext {
  /** Where installed weights live (MODEL_WEIGHTS_DIR), e.g. `<weightsDir>/speaker_embedding/model.onnx`. */
  weightsDir: string;
  logger: Logger;
}

/** Builds a model from its parsed config.pbtxt. Must not load anything yet: that is `load()`. */
export type LocalModelFactory = (config: ModelConfig, ctx: LocalModelContext) => LocalModel;

/** The sidecar's models. */
export const localModels: ReadonlyMap<string, LocalModelFactory> = new Map<string, LocalModelFactory>([
  ["dtmf", createDtmfModel],
  ["speaker_embedding", createSpeakerEmbeddingModel],
  ["vad", createVadModel],
  ["whisper", createWhisperModel],
]);
