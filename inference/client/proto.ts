// The KServe v2 service as @grpc/proto-loader loads it from proto/inference/, and the shapes of
// the messages the client sends and receives. proto-loader decodes into plain objects; the
// interfaces below describe those objects for the options in `loaderOptions` (snake_case field
// names as on the wire, 64-bit integers as decimal strings, enums by name, defaults filled in).
// Only the fields the client reads or writes are listed.
import { fileURLToPath } from "node:url";
import { loadSync, type Options, type PackageDefinition, type MethodDefinition } from "@grpc/proto-loader";

const protoRoot = fileURLToPath(new URL("../../proto/", import.meta.url));

const loaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let definition: PackageDefinition | undefined;

/** The service's methods, loaded on first use (importing this module reads no file). */
export function inferenceMethod(name: InferenceMethodName): MethodDefinition<object, object> {
  definition ??= loadSync("inference/grpc_service.proto", loaderOptions);
  const service = definition["inference.GRPCInferenceService"] as Record<string, MethodDefinition<object, object>>;
  const method = service[name];
  if (!method) throw new Error(`inference.GRPCInferenceService has no method ${name}`);
  return method;
}

export type InferenceMethodName =
  | "ServerLive"
  | "ServerReady"
  | "ModelReady"
  | "ServerMetadata"
  | "ModelMetadata"
  | "ModelInfer"
  | "ModelConfig"
  | "RepositoryIndex";

/** InferParameter: exactly one of the values, `parameter_choice` names which. */
export interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
  parameter_choice?: string;
}

export interface InferTensorContentsMessage {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

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
}

export interface ModelConfigResponseMessage {
  config: ModelConfigMessage | null;
}
