// What a model of the local sidecar gets from the sidecar besides its config, and the shape of the
// function that builds one. Its own module so that the models and the table of models in index.ts
// both depend on it, and not on each other.
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import type { Logger } from "../../logger.js";
import type { LocalModel } from "./model.js";

/** What a model gets from the sidecar besides its config. */
export interface LocalModelContext {
  /** Where installed weights live (MODEL_WEIGHTS_DIR), e.g. `<weightsDir>/speaker_embedding/model.onnx`. */
  weightsDir: string;
  logger: Logger;
}

/** Builds a model from its parsed config.pbtxt. Must not load anything yet: that is `load()`. */
export type LocalModelFactory = (config: ModelConfig, ctx: LocalModelContext) => LocalModel;
