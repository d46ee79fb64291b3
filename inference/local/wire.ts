// The KServe v2 service definition as the sidecar serves it: @grpc/proto-loader over
// proto/inference/grpc_service.proto, and the shapes of the decoded request objects the handlers
// read (snake_case as on the wire, 64-bit integers as decimal strings, enums by name, defaults
// filled in, `parameter_choice` naming the set member of a oneof). ModelConfig responses are
// written with protobuf-es instead, straight from the parsed config.pbtxt message, so that the
// configuration Triton would return and the one the sidecar returns are the same bytes' worth.
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { loadSync, type MethodDefinition } from "@grpc/proto-loader";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { ModelConfigResponseSchema, type ModelConfigResponse } from "../../proto/gen/inference/grpc_service_pb.js";
import type { InferParameterMessage, InferTensorContentsMessage } from "../client/proto.js";

// The parameter and contents messages decode the same on both ends of the wire.
export type { InferParameterMessage, InferTensorContentsMessage };

const protoRoot = fileURLToPath(new URL("../../proto/", import.meta.url));

/** The GRPCInferenceService definition for grpc-js `Server.addService`. */
export function inferenceServiceDefinition(): ServiceDefinition {
  const definition = loadSync("inference/grpc_service.proto", {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoRoot],
  });
  const service = definition["inference.GRPCInferenceService"] as unknown as Record<string, MethodDefinition<object, object>>;
  const modelConfig = service.ModelConfig as MethodDefinition<object, object>;
  return {
    ...service,
    ModelConfig: {
      ...modelConfig,
      responseSerialize: (response: object) => Buffer.from(toBinary(ModelConfigResponseSchema, response as ModelConfigResponse)),
    },
  } as ServiceDefinition;
}

export interface InferInputTensorMessage {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Record<string, InferParameterMessage>;
  contents: InferTensorContentsMessage | null;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameterMessage>;
  inputs: InferInputTensorMessage[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}

export interface InferOutputTensorWire {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelInferResponseWire {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensorWire[];
  raw_output_contents: Buffer[];
}

/** Requests of ModelReady, ModelMetadata and ModelConfig. */
export interface ModelRequestMessage {
  name: string;
  version: string;
}

export interface RepositoryIndexRequestMessage {
  repository_name: string;
  ready: boolean;
}
