// The inference client: typed access to every model of inference/models/ over KServe v2 gRPC,
// on Triton or the local sidecar alike.
export { createInferenceClient } from "./client.js";
export type {
  AddressHealth,
  CallOptions,
  InferenceClient,
  InferenceClientOptions,
  ModelMetadata,
  RepositoryModel,
  ServerMetadata,
  TensorSignature,
} from "./api.js";
export type { RetryOptions } from "./backoff.js";
export type { BreakerOptions, BreakerState } from "./breaker.js";
export { asrContract, modelContracts, speakerEmbeddingContract, vadContract, EMBEDDING_SIZE } from "./contract.js";
export type { ModelContract, ModelSignature, TensorSpec, InputSpec } from "./contract.js";
export * from "./errors.js";
export { newSequenceId, SAMPLE_RATE } from "./models.js";
export { VAD_STREAM_MODEL } from "./models.js";
export type { InferRequest, InferResult, SequenceStep, TranscribeOptions, Transcription, TranscriptSegment, TranscriptWord, VadOptions, VadResult } from "./models.js";
export type { Datatype, Tensor, TensorData } from "./tensors.js";
