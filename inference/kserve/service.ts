// The KServe v2 GRPCInferenceService (proto/inference/grpc_service.proto, the API Triton serves)
// as @grpc/proto-loader loads it, shared by the client (inference/client) and the local sidecar
// (inference/local), with the message shapes both ends decode alike. proto-loader decodes into
// plain objects; the options in `loaderOptions` give snake_case field names as on the wire, 64-bit
// integers as decimal strings, enums by name, defaults filled in, and `parameter_choice` naming
// the set member of a oneof. Each end describes the other messages as it reads or writes them.
import { fileURLToPath } from "node:url";
import { loadSync, type MethodDefinition, type Options, type PackageDefinition } from "@grpc/proto-loader";

const protoRoot = fileURLToPath(new URL("../../proto/", import.meta.url));

const loaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

export type InferenceMethodName =
  | "ServerLive"
  | "ServerReady"
  | "ModelReady"
  | "ServerMetadata"
  | "ModelMetadata"
  | "ModelInfer"
  | "ModelConfig"
  | "RepositoryIndex";

let definition: PackageDefinition | undefined;

/** Every method of the service, by name; loaded on first use (importing this module reads no file). */
export function inferenceServiceMethods(): Record<string, MethodDefinition<object, object>> {
  definition ??= loadSync("inference/grpc_service.proto", loaderOptions);
  return definition["inference.GRPCInferenceService"] as unknown as Record<string, MethodDefinition<object, object>>;
}

/** One method of the service. */
export function inferenceMethod(name: InferenceMethodName): MethodDefinition<object, object> {
  const method = inferenceServiceMethods()[name];
  if (!method) throw new Error(`inference.GRPCInferenceService has no method ${name}`);
  return method;
}

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
