// What one model of the local sidecar is: the sidecar's KServe v2 server parses requests
// into named tensors, hands them to the model named in the request, and encodes what it
// returns. Each model reads its tensor names from its config.pbtxt (the same file Triton
// reads), never from a second copy in code.
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";

/** KServe v2 datatypes the platform's models use. */
export type TensorDatatype = "FP32" | "INT32" | "INT64" | "BYTES" | "BOOL" | "UINT8" | "INT16" | "FP16";

/** A tensor with its data decoded: numbers in a typed array, or BYTES as one Uint8Array per element. */
export interface Tensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Uint8Array[] | boolean[];
}

/** Request-level parameters (KServe v2 `parameters`), e.g. language or task for ASR models. */
export type InferParameters = Record<string, string | number | boolean | bigint>;

export interface ModelReadiness {
  ready: boolean;
  /** Why it is not ready, and how to make it ready (e.g. where to put the weights). */
  reason?: string;
}

export interface LocalModel {
  /** The model's configuration as parsed from inference/models/<name>/config.pbtxt. */
  readonly config: ModelConfig;
  /** Loads weights or runtimes. Must not throw for a missing model: report it in readiness(). */
  load(): Promise<void>;
  readiness(): ModelReadiness;
  /**
   * Runs the model. Inputs are already checked against config (names, datatypes, dims,
   * byte lengths). Throw an InferenceInputError for a semantically bad input, a ModelUnavailableError
   * when its runtime failed or is restarting and a retry may succeed, a ModelOverloadedError when
   * the model's own queue is full; anything else is answered INTERNAL.
   */
  infer(inputs: ReadonlyMap<string, Tensor>, parameters: InferParameters, signal: AbortSignal): Promise<Tensor[]>;
  /** Frees native resources. */
  unload(): Promise<void>;
}

/** Input that passes the config's checks but cannot be processed; maps to INVALID_ARGUMENT naming the tensor. */
export class InferenceInputError extends Error {
  override readonly name = "InferenceInputError";
  constructor(
    readonly tensor: string,
    reason: string,
  ) {
    super(`${tensor}: ${reason}`);
  }
}

/** The model's runtime failed, is restarting or is not loaded; a retry may succeed. Maps to UNAVAILABLE. */
export class ModelUnavailableError extends Error {
  override readonly name = "ModelUnavailableError";
}

/** The model's own queue is full. Maps to RESOURCE_EXHAUSTED. */
export class ModelOverloadedError extends Error {
  override readonly name = "ModelOverloadedError";
  constructor(
    message: string,
    /** When a retry has a fair chance. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
