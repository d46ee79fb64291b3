// What the client relies on in each model: tensor names, datatypes and dims (batch dimension
// excluded, -1 for a variable size), as the typed helpers send and read them. The same table is
// held against every inference/models/*/config.pbtxt by inference/contract.test.ts, and against
// the configuration a live server returns before a helper first uses a model, so Triton, the local
// sidecar and this client cannot drift apart unnoticed.
import type { ModelConfigMessage } from "./proto.js";
import { isDatatype, type Datatype } from "./tensors.js";

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Dims without the batch dimension; -1 is variable. */
  dims: readonly number[];
}

export interface InputSpec extends TensorSpec {
  /** The client may leave it out, so the model must declare it optional. */
  optional?: boolean;
}

export interface ModelContract {
  inputs: readonly InputSpec[];
  outputs: readonly TensorSpec[];
  /** Names of config `parameters` the client reads. */
  parameters?: readonly string[];
}

/** Every speech recogniser (whisper, dtmf, ...): audio and string options in, text and timed segments out. */
export const asrContract: ModelContract = {
  inputs: [
    { name: "AUDIO", datatype: "FP32", dims: [-1] },
    { name: "LANGUAGE", datatype: "BYTES", dims: [1], optional: true },
    { name: "TASK", datatype: "BYTES", dims: [1], optional: true },
    { name: "PROMPT", datatype: "BYTES", dims: [1], optional: true },
    { name: "MAX_ALTERNATIVES", datatype: "INT32", dims: [1], optional: true },
  ],
  outputs: [
    { name: "TRANSCRIPT", datatype: "BYTES", dims: [1] },
    { name: "SEGMENTS", datatype: "BYTES", dims: [1] },
    { name: "ALTERNATIVES", datatype: "BYTES", dims: [1] },
  ],
};

/** Voice activity: one speech probability per frame of `frame_samples` samples. */
export const vadContract: ModelContract = {
  inputs: [{ name: "AUDIO", datatype: "FP32", dims: [-1] }],
  outputs: [{ name: "PROBS", datatype: "FP32", dims: [-1] }],
  parameters: ["frame_samples"],
};

export const EMBEDDING_SIZE = 192;

/** Speaker embedding: one fixed-length vector per audio segment. */
export const speakerEmbeddingContract: ModelContract = {
  inputs: [{ name: "AUDIO", datatype: "FP32", dims: [-1] }],
  outputs: [{ name: "EMBEDDING", datatype: "FP32", dims: [EMBEDDING_SIZE] }],
};

/** The models the platform ships, by repository name, and the contract the client holds each to. */
export const modelContracts: Readonly<Record<string, ModelContract>> = {
  whisper: asrContract,
  dtmf: asrContract,
  vad: vadContract,
  vad_stream: vadContract,
  speaker_embedding: speakerEmbeddingContract,
};

/** The parts of a model configuration the contract covers, whichever way it was obtained. */
export interface ModelSignature {
  name: string;
  /** 0: requests carry no batch dimension; > 0: every tensor has a leading batch dimension. */
  maxBatchSize: number;
  inputs: { name: string; datatype: Datatype | string; dims: number[]; optional: boolean }[];
  outputs: { name: string; datatype: Datatype | string; dims: number[] }[];
  parameters: Record<string, string>;
  /**
   * The model declares sequence batching: every request names a sequence (Triton refuses one that
   * does not), and a sequence's requests may each carry only what follows the previous one.
   */
  sequenceBatching: boolean;
}

/** Config DataType enum name ("TYPE_FP32") to the protocol's datatype name ("FP32"); TYPE_STRING is BYTES. */
export function datatypeOfConfigType(type: string): Datatype | string {
  const name = type.replace(/^TYPE_/, "");
  if (name === "STRING") return "BYTES";
  return isDatatype(name) ? name : type;
}

/** A ModelConfig as the ModelConfig RPC returns it through proto-loader. */
export function signatureOfConfigMessage(config: ModelConfigMessage): ModelSignature {
  return {
    name: config.name,
    maxBatchSize: config.max_batch_size,
    inputs: config.input.map((i) => ({
      name: i.name,
      datatype: datatypeOfConfigType(i.data_type),
      dims: i.dims.map(Number),
      optional: i.optional,
    })),
    outputs: config.output.map((o) => ({ name: o.name, datatype: datatypeOfConfigType(o.data_type), dims: o.dims.map(Number) })),
    parameters: Object.fromEntries(Object.entries(config.parameters).map(([k, v]) => [k, v.string_value])),
    sequenceBatching: config.sequence_batching != null,
  };
}

/** Every way `signature` fails `contract`; empty when the client can use the model. */
export function contractViolations(contract: ModelContract, signature: ModelSignature): string[] {
  const problems: string[] = [];
  const dims = (d: readonly number[]) => `[${d.join(", ")}]`;
  const compare = (kind: string, spec: TensorSpec, declared: { datatype: string; dims: number[] } | undefined): boolean => {
    if (!declared) {
      problems.push(`${kind} ${spec.name} is not declared`);
      return false;
    }
    if (declared.datatype !== spec.datatype) problems.push(`${kind} ${spec.name} is ${declared.datatype}, the client uses ${spec.datatype}`);
    if (dims(declared.dims) !== dims(spec.dims)) problems.push(`${kind} ${spec.name} has dims ${dims(declared.dims)}, the client uses ${dims(spec.dims)}`);
    return true;
  };
  for (const spec of contract.inputs) {
    const declared = signature.inputs.find((i) => i.name === spec.name);
    if (compare("input", spec, declared) && spec.optional && !declared!.optional) {
      problems.push(`input ${spec.name} is required by the model, the client treats it as optional`);
    }
  }
  for (const declared of signature.inputs) {
    if (!declared.optional && !contract.inputs.some((s) => s.name === declared.name)) {
      problems.push(`input ${declared.name} is required by the model, the client never sends it`);
    }
  }
  for (const spec of contract.outputs) compare("output", spec, signature.outputs.find((o) => o.name === spec.name));
  for (const parameter of contract.parameters ?? []) {
    if (!(parameter in signature.parameters)) problems.push(`parameter ${parameter} is not declared`);
  }
  return problems;
}
