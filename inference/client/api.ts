// The inference client's public face: what a service holds (InferenceClient), how it is made
// (InferenceClientOptions) and the values its calls take and return. client.ts builds it.
import type * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";
import type { RetryOptions } from "./backoff.js";
import type { BreakerOptions, BreakerState } from "./breaker.js";
import type { ModelSignature } from "./contract.js";
import type { InferRequest, InferResult, TranscribeOptions, Transcription, VadOptions, VadResult } from "./models.js";

export interface InferenceClientOptions {
  /** Server addresses, "host:port" (Triton's gRPC port, or the sidecar's). At least one. */
  addresses: readonly string[];
  /** Deadline of a call, all attempts included, unless the call gives its own. Default 30 s. */
  deadlineMs?: number;
  /** Default: 4 attempts, backoff ceilings 50 ms doubling up to 1 s. */
  retry?: Partial<RetryOptions>;
  /** Default: open after 3 consecutive failures to reach an address, probe again after 2 s. */
  breaker?: Partial<BreakerOptions>;
  /** Where the client's metrics are registered; a private registry when left out. */
  registry?: Registry;
  logger?: Logger;
  /** Default: plaintext (Triton and the sidecar listen on a private network or loopback). */
  credentials?: grpc.ChannelCredentials;
  /** Largest request or response message. Default 64 MiB (about 17 minutes of 16 kHz FP32 audio). */
  maxMessageBytes?: number;
  /** Extra grpc-js channel options; they override the client's own. */
  channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  /** Deadline of this call, all attempts included; the client's default when left out. */
  deadlineMs?: number;
  /** Cancels the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface TensorSignature {
  name: string;
  datatype: string;
  /** Batch dimension included when the model batches; -1 is variable. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface RepositoryModel {
  name: string;
  version: string;
  /** "READY", "UNAVAILABLE", "LOADING", ... */
  state: string;
  /** Why the model is in that state, when the server says (for example how to install it). */
  reason: string;
}

export interface AddressHealth {
  address: string;
  breaker: BreakerState;
  ready: boolean;
  /** Why it is not ready. */
  error?: string;
}

export interface InferenceClient {
  /** True when at least one server is ready. Asks every address, bypassing the breakers. */
  serverReady(options?: CallOptions): Promise<boolean>;
  /** Readiness and breaker state of each address, for /readyz and diagnostics. */
  addressHealth(options?: CallOptions): Promise<AddressHealth[]>;
  serverLive(options?: CallOptions): Promise<boolean>;
  serverMetadata(options?: CallOptions): Promise<ServerMetadata>;
  modelReady(model: string, options?: CallOptions): Promise<boolean>;
  modelMetadata(model: string, options?: CallOptions): Promise<ModelMetadata>;
  /** The model's tensor signature from its configuration; cached per model. */
  modelConfig(model: string, options?: CallOptions): Promise<ModelSignature>;
  repositoryIndex(options?: CallOptions): Promise<RepositoryModel[]>;
  /** Any model, tensors in and out. */
  infer(request: InferRequest, options?: CallOptions): Promise<InferResult>;
  /** Speech probability per frame of 16 kHz mono audio (model "vad" unless `options.model` names another). */
  vad(audio: Float32Array, options?: VadOptions & CallOptions): Promise<VadResult>;
  /** Text and timed segments of 16 kHz mono audio from an ASR model ("whisper", "dtmf"). */
  transcribe(model: string, audio: Float32Array, options?: TranscribeOptions & CallOptions): Promise<Transcription>;
  /** Speaker embedding of one segment of 16 kHz mono audio. */
  embed(segment: Float32Array, options?: CallOptions): Promise<Float32Array>;
  /** Closes every channel; calls in flight finish, later calls fail. */
  close(): void;
}
