// The KServe v2 service definition as the sidecar serves it (inference/kserve), and the shapes of
// the decoded request objects the handlers read. ModelConfig responses are written with
// protobuf-es instead, straight from the parsed config.pbtxt message, so that the configuration
// Triton would return and the one the sidecar returns are the same bytes' worth.
import { toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition } from "@grpc/proto-loader";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { ModelConfigResponseSchema, type ModelConfigResponse } from "../../proto/gen/inference/grpc_service_pb.js";
import { inferenceServiceMethods, type InferParameterMessage, type InferTensorContentsMessage } from "../kserve/service.js";

/** The GRPCInferenceService definition for grpc-js `Server.addService`. */
export function inferenceServiceDefinition(): ServiceDefinition {
  const service = inferenceServiceMethods();
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
