// A catalog model as the contract's `Model` message: ListModels and GetSystemStats describe models alike.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ModelState, type ModelSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import type { CatalogModel, ModelReadiness } from "./catalog.js";

const modelStates: Record<ModelReadiness, ModelState> = {
  ready: ModelState.READY,
  loading: ModelState.LOADING,
  unavailable: ModelState.UNAVAILABLE,
};

export function modelStateOf(readiness: ModelReadiness): ModelState {
  return modelStates[readiness];
}

export function modelMessage(m: CatalogModel): MessageInitShape<typeof ModelSchema> {
  return {
    name: m.name,
    displayName: m.displayName,
    description: m.description,
    languageCodes: m.languageCodes,
    state: modelStates[m.state],
    isDefault: m.isDefault,
    supportsStreaming: m.supportsStreaming,
    supportsBatch: m.supportsBatch,
    supportsWordTimeOffsets: m.supportsWordTimeOffsets,
    supportsWordConfidence: m.supportsWordConfidence,
    nativeSampleRateHz: m.nativeSampleRateHz,
  };
}
