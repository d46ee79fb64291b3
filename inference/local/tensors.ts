// Turning a ModelInfer request into checked tensors, and tensors back into a response, the way
// Triton does: inputs are matched against the model's config (names, datatypes, dims with the
// batch dimension when max_batch_size > 0, byte lengths), data comes either as
// `raw_input_contents` (little-endian, BYTES elements each prefixed by a 4-byte little-endian
// length) or as typed `contents`, and outputs go back as `raw_output_contents`.
import { endianness } from "node:os";
import { status } from "@grpc/grpc-js";
import type { ModelConfig, ModelInput } from "../../proto/gen/inference/model_config_pb.js";
import { kserveDatatype } from "../repository/signature.js";
import type { InferParameters, Tensor, TensorDatatype } from "./models/model.js";
import type { InferParameterMessage } from "../kserve/service.js";
import type { InferInputTensorMessage, ModelInferRequestMessage, InferOutputTensorWire } from "./wire.js";

if (endianness() !== "LE") throw new Error("the local sidecar copies tensor bytes as they are and needs a little-endian CPU");

/** A request the sidecar refuses, with the gRPC status to refuse it with. */
export class RequestError extends Error {
  override readonly name = "RequestError";
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new RequestError(status.INVALID_ARGUMENT, message);

/** Bytes per element of the fixed-size datatypes the sidecar decodes. */
const elementBytes: Record<Exclude<TensorDatatype, "BYTES">, number> = {
  FP32: 4,
  INT32: 4,
  INT64: 8,
  INT16: 2,
  UINT8: 1,
  BOOL: 1,
  FP16: 2,
};

const supported = new Set<string>(["FP32", "INT32", "INT64", "INT16", "UINT8", "BOOL", "FP16", "BYTES"]);

/** Whether the sidecar can carry tensors of a config's datatype (FP32 → yes, FP64 → no). */
export function isSupportedDatatype(datatype: string): datatype is TensorDatatype {
  return supported.has(datatype);
}

export interface CheckedRequest {
  inputs: Map<string, Tensor>;
  parameters: InferParameters;
  /** Output names to return, in the order asked (all of the model's, in config order, when none were). */
  outputs: string[];
}

export interface TensorLimits {
  /** Largest element count of one input tensor. */
  maxElements: number;
}

/** Checks a decoded ModelInfer request against the model's config and decodes its tensors. */
export function checkInferRequest(request: ModelInferRequestMessage, config: ModelConfig, limits: TensorLimits): CheckedRequest {
  const model = config.name;
  const raw = request.raw_input_contents;
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalid(`raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs; give one per input, in order`);
  }
  const declared = new Map(config.input.map((input) => [input.name, input]));
  const inputs = new Map<string, Tensor>();
  let batchSize: number | undefined;
  request.inputs.forEach((message, index) => {
    const input = declared.get(message.name);
    if (!input) {
      throw invalid(`unknown input "${message.name}" for model "${model}"; it takes ${[...declared.keys()].join(", ")}`);
    }
    if (inputs.has(message.name)) throw invalid(`input "${message.name}" is given twice`);
    const shape = checkShape(message, input, config);
    if (config.maxBatchSize > 0) {
      if (batchSize !== undefined && shape[0] !== batchSize) {
        throw invalid(`input "${message.name}" has batch size ${shape[0]} but another input has ${batchSize}; all inputs share the batch dimension`);
      }
      batchSize = shape[0];
    }
    const elements = shape.reduce((a, b) => a * b, 1);
    if (elements > limits.maxElements) {
      throw invalid(`input "${message.name}" has ${elements} elements, over the sidecar's limit of ${limits.maxElements} per tensor`);
    }
    const datatype = message.datatype as TensorDatatype;
    if (raw.length > 0 && message.contents !== null && hasContents(message.contents)) {
      throw invalid(`input "${message.name}" sets contents while the request uses raw_input_contents; use one or the other`);
    }
    const data =
      raw.length > 0
        ? decodeRaw(message.name, datatype, elements, raw[index] as Buffer)
        : decodeContents(message.name, datatype, elements, message.contents);
    inputs.set(message.name, { name: message.name, datatype, shape, data });
  });
  for (const input of config.input) {
    if (!input.optional && !inputs.has(input.name)) throw invalid(`missing required input "${input.name}" for model "${model}"`);
  }
  const outputNames = config.output.map((output) => output.name);
  const outputs = request.outputs.length === 0 ? outputNames : request.outputs.map((output) => output.name);
  for (const name of outputs) {
    if (!outputNames.includes(name)) throw invalid(`unknown output "${name}" requested from model "${model}"; it has ${outputNames.join(", ")}`);
  }
  if (new Set(outputs).size !== outputs.length) throw invalid("an output is requested twice");
  return { inputs, parameters: decodeParameters(request.parameters), outputs };
}

function checkShape(message: InferInputTensorMessage, input: ModelInput, config: ModelConfig): number[] {
  const expectedType = kserveDatatype(input.dataType);
  if (message.datatype !== expectedType) {
    throw invalid(`input "${message.name}" has datatype ${message.datatype || "(none)"}; model "${config.name}" expects ${expectedType}`);
  }
  const shape = message.shape.map(Number);
  const dims = input.dims.map(Number);
  const batched = config.maxBatchSize > 0;
  const expected = `[${batched ? "batch, " : ""}${dims.join(", ")}]`;
  const wrongShape = () =>
    invalid(`input "${message.name}" has shape [${shape.join(", ")}]; model "${config.name}" expects ${expected}` +
      (batched ? ` with 1 ≤ batch ≤ ${config.maxBatchSize}` : ""));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw wrongShape();
  if (shape.length !== dims.length + (batched ? 1 : 0)) throw wrongShape();
  if (batched && ((shape[0] as number) < 1 || (shape[0] as number) > config.maxBatchSize)) throw wrongShape();
  const own = batched ? shape.slice(1) : shape;
  if (own.some((d, i) => dims[i] !== -1 && d !== dims[i])) throw wrongShape();
  return shape;
}

function hasContents(contents: NonNullable<InferInputTensorMessage["contents"]>): boolean {
  return Object.values(contents).some((list) => Array.isArray(list) && list.length > 0);
}

function decodeRaw(name: string, datatype: TensorDatatype, elements: number, bytes: Buffer): Tensor["data"] {
  if (datatype === "BYTES") return splitBytesElements(name, elements, bytes);
  const expected = elements * elementBytes[datatype];
  if (bytes.length !== expected) {
    throw invalid(`input "${name}" has ${bytes.length} bytes of raw data; its shape and datatype ${datatype} need ${expected}`);
  }
  // A copy, so that the typed array is aligned whatever offset the gRPC buffer has.
  const copy = new Uint8Array(bytes);
  switch (datatype) {
    case "FP32":
      return new Float32Array(copy.buffer, 0, elements);
    case "INT32":
      return new Int32Array(copy.buffer, 0, elements);
    case "INT64":
      return new BigInt64Array(copy.buffer, 0, elements);
    case "INT16":
      return new Int16Array(copy.buffer, 0, elements);
    case "BOOL":
      return Array.from(copy, (b) => b !== 0);
    case "UINT8":
    case "FP16":
      return copy;
  }
}

function splitBytesElements(name: string, elements: number, bytes: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw invalid(`input "${name}": raw BYTES data ends inside an element's 4-byte length`);
    const length = bytes.readUInt32LE(offset);
    offset += 4;
    if (offset + length > bytes.length) {
      throw invalid(`input "${name}": raw BYTES element ${out.length} claims ${length} bytes but ${bytes.length - offset} remain`);
    }
    out.push(new Uint8Array(bytes.subarray(offset, offset + length)));
    offset += length;
  }
  if (out.length !== elements) {
    throw invalid(`input "${name}" has ${out.length} BYTES elements of raw data; its shape needs ${elements}`);
  }
  return out;
}

function decodeContents(name: string, datatype: TensorDatatype, elements: number, contents: InferInputTensorMessage["contents"]): Tensor["data"] {
  if (contents === null) throw invalid(`input "${name}" has no data: set its contents or raw_input_contents`);
  const list = (field: keyof typeof contents) => {
    const values = contents[field] as unknown[];
    if (values.length !== elements) {
      throw invalid(`input "${name}" has ${values.length} values in contents.${field}; its shape needs ${elements}`);
    }
    for (const other of Object.keys(contents) as (keyof typeof contents)[]) {
      if (other !== field && contents[other].length > 0) {
        throw invalid(`input "${name}" of datatype ${datatype} sets contents.${other}; it takes contents.${field}`);
      }
    }
    return values;
  };
  switch (datatype) {
    case "FP32":
      return Float32Array.from(list("fp32_contents") as number[]);
    case "INT32":
      return Int32Array.from(list("int_contents") as number[]);
    case "INT16":
      return Int16Array.from(list("int_contents") as number[]);
    case "INT64":
      return BigInt64Array.from(list("int64_contents") as string[], (v) => BigInt(v));
    case "UINT8":
      return Uint8Array.from(list("uint_contents") as number[]);
    case "BOOL":
      return [...(list("bool_contents") as boolean[])];
    case "BYTES":
      return (list("bytes_contents") as Buffer[]).map((b) => new Uint8Array(b));
    case "FP16":
      throw invalid(`input "${name}" is FP16, which has no typed contents field: send it as raw_input_contents`);
  }
}

function decodeParameters(parameters: Record<string, InferParameterMessage>): InferParameters {
  const out: InferParameters = {};
  for (const [key, parameter] of Object.entries(parameters)) {
    switch (parameter.parameter_choice) {
      case "bool_param":
        out[key] = parameter.bool_param === true;
        break;
      case "string_param":
        out[key] = parameter.string_param ?? "";
        break;
      case "double_param":
        out[key] = parameter.double_param ?? 0;
        break;
      case "int64_param":
      case "uint64_param": {
        const value = BigInt(parameter[parameter.parameter_choice] ?? "0");
        out[key] = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
        break;
      }
    }
  }
  return out;
}

/**
 * The response tensors for the requested outputs, checked against the config: a model that
 * returns an undeclared output, a wrong datatype or data that disagrees with its shape is a bug,
 * reported as INTERNAL rather than sent to the client.
 */
export function encodeOutputs(tensors: Tensor[], config: ModelConfig, requested: string[]): { outputs: InferOutputTensorWire[]; raw: Buffer[] } {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const outputs: InferOutputTensorWire[] = [];
  const raw: Buffer[] = [];
  for (const name of requested) {
    const tensor = byName.get(name);
    const declared = config.output.find((o) => o.name === name);
    const bug = (what: string) => new RequestError(status.INTERNAL, `model "${config.name}" returned ${what}`);
    if (!tensor || !declared) throw bug(`no output "${name}"`);
    if (tensor.datatype !== kserveDatatype(declared.dataType)) throw bug(`output "${name}" as ${tensor.datatype}, not ${kserveDatatype(declared.dataType)}`);
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== elements) throw bug(`output "${name}" with ${tensor.data.length} elements for shape [${tensor.shape.join(", ")}]`);
    outputs.push({ name, datatype: tensor.datatype, shape: tensor.shape });
    raw.push(encodeRaw(tensor));
  }
  return { outputs, raw };
}

function encodeRaw(tensor: Tensor): Buffer {
  const data = tensor.data;
  if (Array.isArray(data)) {
    if (tensor.datatype === "BOOL") return Buffer.from((data as boolean[]).map((b) => (b ? 1 : 0)));
    const parts: Buffer[] = [];
    for (const element of data as Uint8Array[]) {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      parts.push(length, Buffer.from(element.buffer, element.byteOffset, element.length));
    }
    return Buffer.concat(parts);
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
