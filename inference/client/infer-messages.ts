// ModelInfer in the client's terms and on the wire: an InferRequest becomes the request message
// (tensors as raw little-endian contents), and the response message becomes an InferResult, with
// every tensor checked against its datatype and shape.
import { failureFromStatus, InferenceInternalError, Status } from "./errors.js";
import type { InferParameterValue, InferRequest, InferResult } from "./models.js";
import type { InferParameterMessage } from "../kserve/service.js";
import type { ModelInferRequestMessage, ModelInferResponseMessage } from "./proto.js";
import { decodeContents, decodeRaw, emptyContents, encodeRaw, isDatatype, TensorFormatError, type Tensor } from "./tensors.js";

/** The request message; a tensor that cannot be encoded is an InferenceInvalidArgumentError naming it. */
export function inferRequestMessage(request: InferRequest): ModelInferRequestMessage {
  try {
    return {
      model_name: request.model,
      model_version: request.version ?? "",
      inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      outputs: (request.outputs ?? []).map((name) => ({ name })),
      parameters: request.parameters ? parameterMessages(request.parameters) : {},
      raw_input_contents: request.inputs.map(encodeRaw),
    };
  } catch (err) {
    if (err instanceof TensorFormatError) throw failureFromStatus(Status.INVALID_ARGUMENT, err.message, { model: request.model }, [err.tensor]);
    throw err;
  }
}

function parameterMessages(parameters: Record<string, InferParameterValue>): Record<string, InferParameterMessage> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) => {
      if (typeof value === "string") return [key, { string_param: value }];
      if (typeof value === "boolean") return [key, { bool_param: value }];
      return [key, Number.isInteger(value) ? { int64_param: value } : { double_param: value }];
    }),
  );
}

/** The result of `model`; a response the client cannot decode is an InferenceInternalError. */
export function decodeResponse(model: string, response: ModelInferResponseMessage): InferResult {
  const raw = response.raw_output_contents;
  if (raw.length > 0 && raw.length !== response.outputs.length) {
    throw new InferenceInternalError(Status.INTERNAL, `inference model ${model} returned ${response.outputs.length} outputs but ${raw.length} raw contents`, {
      model,
    });
  }
  const outputs = new Map<string, Tensor>();
  response.outputs.forEach((output, i) => {
    const { name, datatype } = output;
    if (!isDatatype(datatype)) throw new InferenceInternalError(Status.INTERNAL, `output ${name} of ${model} has unknown datatype ${datatype}`, { model });
    const shape = output.shape.map(Number);
    try {
      const data =
        raw.length > 0
          ? decodeRaw(name, datatype, shape, raw[i]!)
          : decodeContents(name, datatype, shape, output.contents ?? emptyContents());
      outputs.set(name, { name, datatype, shape, data });
    } catch (err) {
      if (err instanceof TensorFormatError) {
        throw new InferenceInternalError(Status.INTERNAL, `inference model ${model} returned a malformed output: ${err.message}`, { model });
      }
      throw err;
    }
  });
  return { model: response.model_name || model, version: response.model_version, outputs };
}

