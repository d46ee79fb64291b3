// What a model's configuration means on the wire: the KServe v2 datatype of each config data_type
// and the shape a tensor has in a request (with the batch dimension when the model batches). Used
// by the local sidecar to check requests and by contract tests to check clients.
import { DataType, type ModelConfig, type ModelInput, type ModelOutput } from "../../proto/gen/inference/model_config_pb.js";

/** KServe v2 datatype names, as Triton maps its config data types to them. */
const kserveDatatypes: Record<DataType, string> = {
  [DataType.TYPE_INVALID]: "INVALID",
  [DataType.TYPE_BOOL]: "BOOL",
  [DataType.TYPE_UINT8]: "UINT8",
  [DataType.TYPE_UINT16]: "UINT16",
  [DataType.TYPE_UINT32]: "UINT32",
  [DataType.TYPE_UINT64]: "UINT64",
  [DataType.TYPE_INT8]: "INT8",
  [DataType.TYPE_INT16]: "INT16",
  [DataType.TYPE_INT32]: "INT32",
  [DataType.TYPE_INT64]: "INT64",
  [DataType.TYPE_FP16]: "FP16",
  [DataType.TYPE_FP32]: "FP32",
  [DataType.TYPE_FP64]: "FP64",
  [DataType.TYPE_STRING]: "BYTES",
  [DataType.TYPE_BF16]: "BF16",
};

/** The KServe v2 datatype of a config data_type: TYPE_FP32 → "FP32", TYPE_STRING → "BYTES". */
export function kserveDatatype(dataType: DataType): string {
  return kserveDatatypes[dataType];
}

/**
 * The shape of a tensor as ModelMetadata reports it and requests carry it: `dims`, preceded by a
 * variable batch dimension (-1) when max_batch_size > 0.
 */
export function wireShape(config: ModelConfig, tensor: ModelInput | ModelOutput): number[] {
  const dims = tensor.dims.map(Number);
  return config.maxBatchSize > 0 ? [-1, ...dims] : dims;
}

/** A `parameters` entry of the config, or undefined. */
export function modelParameter(config: ModelConfig, key: string): string | undefined {
  return config.parameters[key]?.stringValue;
}

/** A numeric `parameters` entry, `fallback` when absent; throws when present but not a number. */
export function numericModelParameter(config: ModelConfig, key: string, fallback: number): number {
  const text = modelParameter(config, key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new Error(`model ${config.name}: parameter ${key} must be a number (got "${text}")`);
  }
  return value;
}
