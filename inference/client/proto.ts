// The messages of the KServe v2 service (inference/kserve) as the client sends and receives them:
// the shapes of the objects @grpc/proto-loader encodes and decodes with the shared loader options.
// Only the fields the client reads or writes are listed.
import type { InferParameterMessage, InferTensorContentsMessage } from "../kserve/service.js";

export interface InferInputTensorMessage {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameterMessage>;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMessage>;
  inputs: InferInputTensorMessage[];
  outputs: { name: string }[];
  raw_input_contents: Uint8Array[];
}

export interface InferOutputTensorMessage {
  name: string;
  datatype: string;
  shape: string[];
  contents: InferTensorContentsMessage | null;
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensorMessage[];
  raw_output_contents: Buffer[];
}

export interface TensorMetadataMessage {
  name: string;
  datatype: string;
  shape: string[];
}

export interface ModelMetadataResponseMessage {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadataMessage[];
  outputs: TensorMetadataMessage[];
}

export interface ServerMetadataResponseMessage {
  name: string;
  version: string;
  extensions: string[];
}

export interface RepositoryIndexResponseMessage {
  models: { name: string; version: string; state: string; reason: string }[];
}

/** ModelConfig as far as the client reads it; `data_type` is the DataType enum's name ("TYPE_FP32"). */
export interface ModelConfigMessage {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  input: { name: string; data_type: string; dims: string[]; optional: boolean }[];
  output: { name: string; data_type: string; dims: string[] }[];
  parameters: Record<string, { string_value: string }>;
  /** Set when the model declares sequence batching (the scheduling oneof). */
  sequence_batching?: { max_sequence_idle_microseconds: string } | null;
}

export interface ModelConfigResponseMessage {
  config: ModelConfigMessage | null;
}
